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
];
