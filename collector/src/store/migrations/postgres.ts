// Versioned PostgreSQL schema, the same tables as migrations/sqlite.ts. Append new entries; never
// edit one that has shipped. Each runs once, in its own transaction, under an advisory lock (see
// postgres-migrate.ts), and its version is recorded in schema_migrations. Times are bigint epoch ms.
import type { Migration } from './sqlite';

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
];
