// Versioned PostgreSQL schema, the same tables as migrations/sqlite.ts. Append new entries; never
// edit one that has shipped. Each runs once, in its own transaction, under an advisory lock (see
// postgres-migrate.ts), and its version is recorded in schema_migrations. Times are bigint epoch ms.
import type { Migration } from './sqlite';

/**
 * The text free-text search (`q`) looks into, as migration 4 indexes it: the searchable columns
 * (filter-sql TEXT_COLUMNS) joined by a newline, lowered under the "C" collation, which folds
 * ASCII letters only, as SQLite's LIKE does (and costs a byte loop; translate() cost 30x more per
 * row, measured). Frozen with migration 4: the read side (postgres-dialect.ts) writes exactly this
 * expression so the planner matches it to the index; a change needs a new migration and index.
 */
export const Q_TEXT_V4 = `lower((coalesce("user", '') || E'\\n' || coalesce(email, '') || E'\\n' || coalesce(ip, '') || E'\\n' || coalesce(reason, '') || E'\\n' || coalesce(user_agent, '') || E'\\n' || coalesce(service, '')) COLLATE "C")`;

/** The columns Q_TEXT_V4 joins, in its order. */
export const Q_COLUMNS_V4: readonly string[] = ['user', 'email', 'ip', 'reason', 'user_agent', 'service'];

export const postgresMigrations: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

-- seq is the keyset cursor's tie-breaker and the insertion order.
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  id text NOT NULL,
  "time" bigint NOT NULL,
  received_at bigint NOT NULL,
  type text NOT NULL,
  outcome text,
  reason text,
  "user" text NOT NULL,
  user_id text,
  email text,
  session_id text,
  ip text,
  user_agent text,
  device text,
  app_version text,
  service text,
  entry text,
  attributes jsonb,
  actor text,
  country text,
  city text,
  latitude double precision,
  longitude double precision,
  asn integer,
  isp text,
  browser text,
  browser_version text,
  os text,
  os_version text,
  device_type text
);
CREATE UNIQUE INDEX events_id ON events (id);
-- (time, seq) serves the keyset pagination's ORDER BY in both directions.
CREATE INDEX events_time ON events ("time", seq);
CREATE INDEX events_user_time ON events ("user", "time");
CREATE INDEX events_ip_time ON events (ip, "time");
CREATE INDEX events_type_time ON events (type, "time");

CREATE TABLE sessions (
  id text PRIMARY KEY,
  "user" text NOT NULL,
  user_id text,
  ip text,
  country text,
  city text,
  isp text,
  asn integer,
  browser text,
  os text,
  device text,
  device_type text,
  service text,
  started_at bigint NOT NULL,
  last_seen_at bigint NOT NULL,
  ended_at bigint,
  end_reason text
);
CREATE INDEX sessions_user ON sessions ("user", started_at);
CREATE INDEX sessions_started ON sessions (started_at);
CREATE INDEX sessions_active_seen ON sessions (last_seen_at) WHERE ended_at IS NULL;

-- One row per counted failure; key = u:<user> | ui:<user>\\0<ip> | i:<ip>.
CREATE TABLE failures (key text NOT NULL, "time" bigint NOT NULL);
CREATE INDEX failures_key_time ON failures (key, "time");
CREATE INDEX failures_time ON failures ("time");

CREATE TABLE lockouts (
  id bigserial PRIMARY KEY,
  scope text NOT NULL,
  "user" text,
  ip text,
  failures integer NOT NULL,
  locked_at bigint NOT NULL,
  locked_until bigint,
  reason text NOT NULL,
  unlocked_at bigint,
  unlocked_by text
);
CREATE INDEX lockouts_user ON lockouts ("user", scope);
CREATE INDEX lockouts_ip ON lockouts (ip, scope);
CREATE INDEX lockouts_open ON lockouts (locked_at) WHERE unlocked_at IS NULL;

CREATE TABLE state (
  namespace text NOT NULL,
  key text NOT NULL,
  value jsonb NOT NULL,
  expires_at bigint,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX state_expires ON state (expires_at) WHERE expires_at IS NOT NULL;

-- Per-minute and per-hour counts by the timeseries dimensions, kept in the ingest transaction;
-- '' stands for NULL so the primary key merges them.
CREATE TABLE event_counts (
  bucket bigint NOT NULL,
  type text NOT NULL,
  outcome text NOT NULL,
  reason text NOT NULL,
  service text NOT NULL,
  country text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (bucket, type, outcome, reason, service, country)
);
CREATE TABLE event_counts_hour (
  bucket bigint NOT NULL,
  type text NOT NULL,
  outcome text NOT NULL,
  reason text NOT NULL,
  service text NOT NULL,
  country text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (bucket, type, outcome, reason, service, country)
);
`,
  },
  {
    version: 2,
    name: 'attempt_reservations',
    sql: `
CREATE TABLE reservations (
  id text PRIMARY KEY,
  "user" text,
  ip text,
  display_user text,
  display_ip text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  expired boolean NOT NULL DEFAULT false
);
CREATE INDEX reservations_user ON reservations ("user") WHERE NOT expired;
CREATE INDEX reservations_ip ON reservations (ip) WHERE NOT expired;
CREATE INDEX reservations_expires ON reservations (expired, expires_at);
`,
  },
  {
    version: 3,
    name: 'scale_out',
    sql: `
-- Events partitioned by day on "time" (daily partitions are created ahead by the store; anything
-- else lands in events_default). A partitioned table cannot hold a unique index without the
-- partition key, so idempotency by id moves to event_ids; seq keeps its sequence.
ALTER TABLE events RENAME TO events_unpartitioned;
ALTER SEQUENCE events_seq_seq OWNED BY NONE;
CREATE TABLE events (
  seq bigint NOT NULL DEFAULT nextval('events_seq_seq'),
  id text NOT NULL,
  "time" bigint NOT NULL,
  received_at bigint NOT NULL,
  type text NOT NULL,
  outcome text,
  reason text,
  "user" text NOT NULL,
  user_id text,
  email text,
  session_id text,
  ip text,
  user_agent text,
  device text,
  app_version text,
  service text,
  entry text,
  attributes jsonb,
  actor text,
  country text,
  city text,
  latitude double precision,
  longitude double precision,
  asn integer,
  isp text,
  browser text,
  browser_version text,
  os text,
  os_version text,
  device_type text
) PARTITION BY RANGE ("time");
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE event_ids (id text PRIMARY KEY, "time" bigint NOT NULL);
INSERT INTO events SELECT * FROM events_unpartitioned;
INSERT INTO event_ids (id, "time") SELECT id, "time" FROM events_unpartitioned;
DROP TABLE events_unpartitioned;
ALTER SEQUENCE events_seq_seq OWNED BY events.seq;
-- Partitioned indexes: every partition gets its own.
CREATE INDEX events_time ON events ("time", seq);
CREATE INDEX events_user_time ON events ("user", "time");
CREATE INDEX events_ip_time ON events (ip, "time");
CREATE INDEX events_type_time ON events (type, "time");
-- Retention drops whole partitions and deletes the ids of what it dropped.
CREATE INDEX event_ids_time ON event_ids ("time");

-- Rollup rows per writing backend (shard = pg_backend_pid()): concurrent transactions never wait
-- on each other's count rows; readers sum over shards, as they already sum over buckets.
ALTER TABLE event_counts ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE event_counts DROP CONSTRAINT event_counts_pkey;
ALTER TABLE event_counts ADD PRIMARY KEY (bucket, type, outcome, reason, service, country, shard);
ALTER TABLE event_counts_hour ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE event_counts_hour DROP CONSTRAINT event_counts_hour_pkey;
ALTER TABLE event_counts_hour ADD PRIMARY KEY (bucket, type, outcome, reason, service, country, shard);

-- Processor state that may be lost in a database crash (detection windows and cooldowns: they
-- refill from traffic within one window). UNLOGGED: no WAL for a row rewritten on every batch.
CREATE UNLOGGED TABLE state_soft (
  namespace text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  expires_at bigint,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX state_soft_expires ON state_soft (expires_at) WHERE expires_at IS NOT NULL;

-- Per-key write locks (postgres-locks.ts), taken in one call in a fixed order: stripes ascending,
-- then keys ascending, so two writers can never wait on each other in a cycle.
CREATE FUNCTION authwatch_lock_keys(stripe_class integer, stripes integer[], stripes_exclusive boolean, keys bigint[]) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  s integer;
  k bigint;
BEGIN
  FOREACH s IN ARRAY stripes LOOP
    IF stripes_exclusive THEN PERFORM pg_advisory_xact_lock(stripe_class, s);
    ELSE PERFORM pg_advisory_xact_lock_shared(stripe_class, s);
    END IF;
  END LOOP;
  FOREACH k IN ARRAY keys LOOP
    PERFORM pg_advisory_xact_lock(k);
  END LOOP;
END
$fn$;
-- One more key without waiting (never part of a wait cycle); false when another writer holds it.
CREATE FUNCTION authwatch_try_lock_key(stripe_class integer, stripe integer, k bigint) RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT pg_try_advisory_xact_lock_shared(stripe_class, stripe) THEN RETURN false; END IF;
  RETURN pg_try_advisory_xact_lock(k);
END
$fn$;
`,
  },
  {
    version: 4,
    name: 'q_trigram',
    // pg_trgm is a trusted extension (PostgreSQL 13+): a role with CREATE on the database may add
    // it. Without it (older server, no privilege, not installed) the migration still applies and q
    // scans: the collector must start either way. The index is on the partitioned parent, so every
    // partition, existing or created later, gets its own. The operator class is qualified with the
    // schema the extension lives in (a DBA may have installed it outside the search path).
    sql: `
DO $do$
DECLARE
  ext_schema name;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'authwatch: pg_trgm is not available (%): free-text search (q) will scan events. See docs/collector.md (Free-text search on PostgreSQL).', SQLERRM;
    RETURN;
  END;
  SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  EXECUTE format('CREATE INDEX events_q_trgm ON events USING gin ((%s) %I.gin_trgm_ops)', $q$${Q_TEXT_V4}$q$, ext_schema);
END
$do$;
`,
  },
  {
    version: 5,
    name: 'state_soft_in_place',
    // Detection windows are rewritten on every batch that touches their key. With room left on
    // each page, and expires_at moving in 5-minute steps (windowed-keys.ts), PostgreSQL updates a
    // row in place (HOT: no indexed column changed, no index entry added). The expires_at index
    // stays: the sweeper prunes under the cluster-wide write lock, and without the index that
    // prune reads the whole table (500k rows: 96 ms instead of 1.3 ms, measured).
    sql: `
ALTER TABLE state_soft SET (fillfactor = 50);
`,
  },
  {
    version: 6,
    name: 'window_log',
    // Detection windows as a log per key (processors/detections/shared-windows.ts): a batch
    // appends the attempts it added instead of rewriting the key's window whole in state_soft,
    // which then holds only each key's small head row. UNLOGGED as state_soft: a database crash
    // forgets at most one window of attempts.
    sql: `
CREATE UNLOGGED TABLE window_log (
  namespace text NOT NULL,
  key text NOT NULL,
  gen bigint NOT NULL,
  seq integer NOT NULL,
  prev bigint NOT NULL,
  data text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (namespace, key, gen, seq)
);
CREATE INDEX window_log_expires ON window_log (expires_at);
`,
  },
];
