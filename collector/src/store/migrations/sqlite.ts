// Versioned SQLite schema. Append new entries; never edit one that has shipped. Each runs once, in
// its own transaction, and its version is recorded in schema_migrations.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteMigrations: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- seq is the keyset cursor's tie-breaker and the insertion order.
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  time INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  type TEXT NOT NULL,
  outcome TEXT,
  reason TEXT,
  user TEXT NOT NULL,
  user_id TEXT,
  email TEXT,
  session_id TEXT,
  ip TEXT,
  user_agent TEXT,
  device TEXT,
  app_version TEXT,
  service TEXT,
  entry TEXT,
  attributes TEXT,
  actor TEXT,
  country TEXT,
  city TEXT,
  latitude REAL,
  longitude REAL,
  asn INTEGER,
  isp TEXT,
  browser TEXT,
  browser_version TEXT,
  os TEXT,
  os_version TEXT,
  device_type TEXT
);
CREATE UNIQUE INDEX events_id ON events(id);
CREATE INDEX events_time ON events(time);
CREATE INDEX events_user_time ON events(user, time);
CREATE INDEX events_ip_time ON events(ip, time);
CREATE INDEX events_type_time ON events(type, time);
-- reason / service / country / outcome / q filters ride on a time-range scan (every API query
-- carries a range); more event indexes would cost every insert on the batch path.

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  user_id TEXT,
  ip TEXT,
  country TEXT,
  city TEXT,
  isp TEXT,
  asn INTEGER,
  browser TEXT,
  os TEXT,
  device TEXT,
  device_type TEXT,
  service TEXT,
  started_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT
);
CREATE INDEX sessions_user ON sessions(user, started_at);
CREATE INDEX sessions_started ON sessions(started_at);
CREATE INDEX sessions_active_seen ON sessions(last_seen_at) WHERE ended_at IS NULL;

-- One row per counted failure; key = u:<user> | ui:<user>\\0<ip> | i:<ip>.
CREATE TABLE failures (key TEXT NOT NULL, time INTEGER NOT NULL);
CREATE INDEX failures_key_time ON failures(key, time);
CREATE INDEX failures_time ON failures(time);

CREATE TABLE lockouts (
  id INTEGER PRIMARY KEY,
  scope TEXT NOT NULL,
  user TEXT,
  ip TEXT,
  failures INTEGER NOT NULL,
  locked_at INTEGER NOT NULL,
  locked_until INTEGER,
  reason TEXT NOT NULL,
  unlocked_at INTEGER,
  unlocked_by TEXT
);
CREATE INDEX lockouts_user ON lockouts(user, scope);
CREATE INDEX lockouts_ip ON lockouts(ip, scope);
CREATE INDEX lockouts_open ON lockouts(locked_at) WHERE unlocked_at IS NULL;

CREATE TABLE state (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  expires_at INTEGER,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX state_expires ON state(expires_at) WHERE expires_at IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'event_counts_rollup',
    // Per-minute counts by the timeseries dimensions, kept in the ingest transaction, so
    // /v1/timeseries does not read every event of a long range. '' stands for NULL (so the
    // primary key merges them).
    sql: `
CREATE TABLE event_counts (
  bucket INTEGER NOT NULL,
  type TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  service TEXT NOT NULL,
  country TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (bucket, type, outcome, reason, service, country)
) WITHOUT ROWID;
INSERT INTO event_counts (bucket, type, outcome, reason, service, country, count)
  SELECT (time / 60000) * 60000, type, ifnull(outcome, ''), ifnull(reason, ''), ifnull(service, ''), ifnull(country, ''), count(*)
  FROM events GROUP BY 1, 2, 3, 4, 5, 6;
`,
  },
  {
    version: 3,
    name: 'event_counts_hour_rollup',
    // Hourly counts next to the per-minute ones: a 30-day panel reads hours, not minutes.
    sql: `
CREATE TABLE event_counts_hour (
  bucket INTEGER NOT NULL,
  type TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  service TEXT NOT NULL,
  country TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (bucket, type, outcome, reason, service, country)
) WITHOUT ROWID;
INSERT INTO event_counts_hour (bucket, type, outcome, reason, service, country, count)
  SELECT (time / 3600000) * 3600000, type, ifnull(outcome, ''), ifnull(reason, ''), ifnull(service, ''), ifnull(country, ''), count(*)
  FROM events GROUP BY 1, 2, 3, 4, 5, 6;
`,
  },
  {
    version: 4,
    name: 'attempt_reservations',
    // Attempts reserved by /v1/check {"attempt": true}: counted with the failures until settled,
    // so parallel guesses cannot all reach the password check.
    sql: `
CREATE TABLE reservations (
  id TEXT PRIMARY KEY,
  user TEXT,
  ip TEXT,
  display_user TEXT,
  display_ip TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  expired INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reservations_user ON reservations(user) WHERE expired = 0;
CREATE INDEX reservations_ip ON reservations(ip) WHERE expired = 0;
CREATE INDEX reservations_expires ON reservations(expired, expires_at);
`,
  },
  {
    version: 5,
    name: 'search_terms',
    // Free text (q) without scanning events: the distinct values of the searchable columns,
    // trigram-indexed, and one opaque token per (column, value) on each event (store/sqlite-terms.ts).
    // The backfill uses authwatch_terms(), which the store registers before migrating.
    sql: `
CREATE TABLE search_terms (id INTEGER PRIMARY KEY, col TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (col, value));
CREATE VIRTUAL TABLE search_terms_fts USING fts5(value, tokenize = 'trigram', content = 'search_terms', content_rowid = 'id');
CREATE TRIGGER search_terms_ai AFTER INSERT ON search_terms BEGIN
  INSERT INTO search_terms_fts (rowid, value) VALUES (new.id, new.value);
END;
CREATE TRIGGER search_terms_ad AFTER DELETE ON search_terms BEGIN
  INSERT INTO search_terms_fts (search_terms_fts, rowid, value) VALUES ('delete', old.id, old.value);
END;
CREATE VIRTUAL TABLE event_terms USING fts5(t, tokenize = 'unicode61', detail = none, content = '', contentless_delete = 1);
INSERT OR IGNORE INTO search_terms (col, value) SELECT DISTINCT 'user', user FROM events WHERE user IS NOT NULL;
INSERT OR IGNORE INTO search_terms (col, value) SELECT DISTINCT 'email', email FROM events WHERE email IS NOT NULL;
INSERT OR IGNORE INTO search_terms (col, value) SELECT DISTINCT 'ip', ip FROM events WHERE ip IS NOT NULL;
INSERT OR IGNORE INTO search_terms (col, value) SELECT DISTINCT 'reason', reason FROM events WHERE reason IS NOT NULL;
INSERT OR IGNORE INTO search_terms (col, value) SELECT DISTINCT 'user_agent', user_agent FROM events WHERE user_agent IS NOT NULL;
INSERT OR IGNORE INTO search_terms (col, value) SELECT DISTINCT 'service', service FROM events WHERE service IS NOT NULL;
INSERT INTO event_terms (rowid, t) SELECT seq, authwatch_terms(user, email, ip, reason, user_agent, service) FROM events;
`,
  },
  {
    version: 6,
    name: 'user_last_seen',
    // The hour of each user's latest event: unique users of a range that runs to the present are
    // the users seen since its start (plus the partial first hour from the events), not a
    // count(DISTINCT user) over every event of the range.
    sql: `
CREATE TABLE user_last_seen (user TEXT PRIMARY KEY, hour INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX user_last_seen_hour ON user_last_seen (hour);
INSERT INTO user_last_seen (user, hour) SELECT user, (max(time) / 3600000) * 3600000 FROM events GROUP BY user;
`,
  },
  {
    version: 7,
    name: 'small_rollups',
    // Per hour and minute, counts by (type, outcome) and by (type, outcome, one of
    // reason/service/country) beside the full cube (store/sqlite-rollups.ts), backfilled from the
    // full cube; keyed by type and outcome before the bucket, so a filtered series reads only its
    // own rows. And indexes for the newest active sessions and the lockout history, the two lists
    // sorted by time.
    sql: `
CREATE TABLE event_counts_by_hour (
  dim TEXT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL, bucket INTEGER NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (dim, type, outcome, bucket, value)
) WITHOUT ROWID;
CREATE TABLE event_counts_by_minute (
  dim TEXT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL, bucket INTEGER NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (dim, type, outcome, bucket, value)
) WITHOUT ROWID;
INSERT INTO event_counts_by_hour SELECT '', type, outcome, bucket, '', sum(count) FROM event_counts_hour GROUP BY bucket, type, outcome;
INSERT INTO event_counts_by_hour SELECT 'reason', type, outcome, bucket, reason, sum(count) FROM event_counts_hour GROUP BY bucket, type, outcome, reason;
INSERT INTO event_counts_by_hour SELECT 'service', type, outcome, bucket, service, sum(count) FROM event_counts_hour GROUP BY bucket, type, outcome, service;
INSERT INTO event_counts_by_hour SELECT 'country', type, outcome, bucket, country, sum(count) FROM event_counts_hour GROUP BY bucket, type, outcome, country;
INSERT INTO event_counts_by_minute SELECT '', type, outcome, bucket, '', sum(count) FROM event_counts GROUP BY bucket, type, outcome;
INSERT INTO event_counts_by_minute SELECT 'reason', type, outcome, bucket, reason, sum(count) FROM event_counts GROUP BY bucket, type, outcome, reason;
INSERT INTO event_counts_by_minute SELECT 'service', type, outcome, bucket, service, sum(count) FROM event_counts GROUP BY bucket, type, outcome, service;
INSERT INTO event_counts_by_minute SELECT 'country', type, outcome, bucket, country, sum(count) FROM event_counts GROUP BY bucket, type, outcome, country;
CREATE INDEX sessions_active_started ON sessions (started_at, id) WHERE ended_at IS NULL;
CREATE INDEX lockouts_locked_at ON lockouts (locked_at, id);
`,
  },
  {
    version: 8,
    name: 'small_rollups_10min',
    // The small rollups by 10 minutes: a range's ragged ends read 10-minute rows before minutes.
    sql: `
CREATE TABLE event_counts_by_10min (
  dim TEXT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL, bucket INTEGER NOT NULL, value TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (dim, type, outcome, bucket, value)
) WITHOUT ROWID;
INSERT INTO event_counts_by_10min SELECT '', type, outcome, (bucket / 600000) * 600000, '', sum(count) FROM event_counts GROUP BY 4, type, outcome;
INSERT INTO event_counts_by_10min SELECT 'reason', type, outcome, (bucket / 600000) * 600000, reason, sum(count) FROM event_counts GROUP BY 4, type, outcome, reason;
INSERT INTO event_counts_by_10min SELECT 'service', type, outcome, (bucket / 600000) * 600000, service, sum(count) FROM event_counts GROUP BY 4, type, outcome, service;
INSERT INTO event_counts_by_10min SELECT 'country', type, outcome, (bucket / 600000) * 600000, country, sum(count) FROM event_counts GROUP BY 4, type, outcome, country;
`,
  },
];
