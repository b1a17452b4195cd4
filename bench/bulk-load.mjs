#!/usr/bin/env node
// Bulk-loads N realistic events straight into a collector SQLite file, for the query benchmarks
// (P4, P3-export). Builds the file with the collector's own first migration (imported from
// collector/dist), drops the events and sessions indexes, generates the rows inside SQLite (a
// recursive CTE: no per-row JS, ~10x faster than binding rows from Node) in 500k-row transactions
// with the journal off, derives sessions (one per successful login) and expired lockouts from
// those events, rebuilds the indexes, then runs the collector's remaining migrations with its own
// migrate(): rollups, search terms and last-seen hours are backfilled exactly as after an
// upgrade. Event times are spread evenly over `days` days ending now, in time order, as live
// ingest writes them.
// Usage: node bench/bulk-load.mjs '{"dbFile":…,"count":1000000,"days":30}'
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { describeEvents, collectorSqlite, GEO, UA } from './lib/store-schema.mjs';
import { USER_AGENTS, SERVICES, FAIL_REASONS } from './lib/events.mjs';
import { root } from './lib/collector.mjs';

const o = JSON.parse(process.argv[2]);
const t0 = performance.now();
const collector = collectorSqlite(root);
for (const f of [o.dbFile, `${o.dbFile}-wal`, `${o.dbFile}-shm`]) rmSync(f, { force: true });
const db = new Database(o.dbFile);
// The collector's first migration only: the later ones run after the load, with their backfills.
db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
{
  const first = collector.migrations[0];
  db.exec(first.sql);
  db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(first.version, first.name, Date.now());
}
db.pragma('journal_mode = OFF');
db.pragma('synchronous = OFF');
db.pragma('cache_size = -524288'); // 512 MiB
db.pragma('temp_store = MEMORY');

const users = o.users ?? Math.max(5000, Math.round(o.count / 200));
const now = Date.now();
const end = now - 60_000;
const span = (o.days ?? 30) * 86_400_000;
const step = span / o.count;

const q = (v) => (v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
const pick = (sel, values) => `CASE ${sel} ${values.map((v, i) => `WHEN ${i} THEN ${q(v)}`).join(' ')} END`;
const geo = Object.entries(GEO); // [prefix, [country, city, asn, isp, lat, lon]]
const col = (i) => geo.map(([, g]) => g[i]);
const ua = (i) => UA.map((u) => u[i]);

// k: 0–999 decides the kind (55% login success, 25% login failure, 15% access, 5% logout, as
// bench/lib/events.mjs), u the user, g the network, a the user agent.
const userExpr = `'user' || printf('%05d', u)`;
const EVENT_EXPR = {
  id: `'bulk-' || i`,
  time: `CAST(${end - span} + i * ${step} AS INTEGER)`,
  received_at: `CAST(${end - span} + i * ${step} AS INTEGER)`,
  type: `CASE WHEN k < 800 THEN 'login' WHEN k < 950 THEN 'access' ELSE 'logout' END`,
  outcome: `CASE WHEN k >= 550 AND k < 800 THEN 'failure' ELSE 'success' END`,
  reason: `CASE WHEN k >= 550 AND k < 800 THEN ${pick('k % 4', FAIL_REASONS)} END`,
  user: userExpr,
  user_id: `'u-' || u`,
  email: `${userExpr} || '@example.com'`,
  session_id: `CASE WHEN k < 550 THEN lower(hex(randomblob(32))) END`,
  ip: `${pick('g', geo.map(([p]) => p))} || o3 || '.' || o4`,
  user_agent: pick('a', USER_AGENTS),
  app_version: q('5.2.1'),
  service: pick('u % 4', SERVICES),
  entry: `CASE WHEN k >= 800 AND k < 950 THEN 'report_download' END`,
  country: pick('g', col(0)),
  city: pick('g', col(1)),
  asn: pick('g', col(2)),
  isp: pick('g', col(3)),
  latitude: pick('g', col(4)),
  longitude: pick('g', col(5)),
  browser: pick('a', ua(0)),
  browser_version: pick('a', ua(1)),
  os: pick('a', ua(2)),
  os_version: pick('a', ua(3)),
  device_type: pick('a', ua(4)),
};

function insertable(table, exprs) {
  const cols = db.prepare(`PRAGMA table_info("${table}")`).all().filter((c) => !(c.pk === 1 && /INTEGER/i.test(c.type)));
  const missing = cols.filter((c) => c.notnull && c.dflt_value === null && !(c.name in exprs));
  if (missing.length) throw new Error(`${table}: no generator for NOT NULL column(s) ${missing.map((c) => c.name).join(', ')}`);
  const use = cols.filter((c) => c.name in exprs);
  return { names: use.map((c) => `"${c.name}"`).join(', '), values: use.map((c) => exprs[c.name]).join(', ') };
}

const { table, indexes } = describeEvents(db);
const sessionIndexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='sessions' AND sql IS NOT NULL").all();
for (const ix of [...indexes, ...sessionIndexes]) db.exec(`DROP INDEX "${ix.name}"`);

const ev = insertable(table, EVENT_EXPR);
const insertChunk = db.prepare(`
  WITH RECURSIVE seq(i) AS (SELECT CAST(@from AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < @to),
  -- MATERIALIZED: each random() is drawn once per row, not once per reference.
  r AS MATERIALIZED (SELECT i, abs(random()) % 1000 AS k, abs(random()) % ${users} AS u, abs(random()) % ${geo.length} AS g,
               abs(random()) % ${USER_AGENTS.length} AS a, abs(random()) % 250 + 1 AS o3, abs(random()) % 250 + 1 AS o4 FROM seq)
  INSERT INTO "${table}" (${ev.names}) SELECT ${ev.values} FROM r`);

const hasSessions = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sessions'").get();
const hasLockouts = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='lockouts'").get();
// Sessions seen in the last 20 minutes stay active (default idle timeout: 30 minutes).
const ses =
  hasSessions &&
  insertable('sessions', {
    id: 'session_id', user: 'user', user_id: 'user_id', ip: 'ip', country: 'country', city: 'city', isp: 'isp', asn: 'asn',
    browser: 'browser', os: 'os', device: 'device', device_type: 'device_type', service: 'service',
    started_at: 'time', last_seen_at: `min(time + d, ${now})`,
    ended_at: `CASE WHEN time + d > ${now - 1_200_000} THEN NULL ELSE time + d + 1800000 END`,
    end_reason: `CASE WHEN time + d > ${now - 1_200_000} THEN NULL WHEN d % 5 < 3 THEN 'idle_timeout' ELSE 'logout' END`,
  });
const insertSessions =
  ses &&
  db.prepare(`INSERT OR IGNORE INTO sessions (${ses.names})
    SELECT ${ses.values} FROM (SELECT *, (seq * 7919) % 1200000 AS d FROM "${table}"
      WHERE seq > @seq AND type = 'login' AND outcome = 'success' AND session_id IS NOT NULL AND id LIKE 'bulk-%')`);
const lock =
  hasLockouts &&
  insertable('lockouts', {
    scope: `'user'`, user: 'user', failures: '6', locked_at: 'time', locked_until: 'time + 900000', reason: `'too_many_failures'`,
  });
const insertLockouts =
  lock &&
  db.prepare(`INSERT INTO lockouts (${lock.names}) SELECT ${lock.values} FROM "${table}"
    WHERE seq > @seq AND outcome = 'failure' AND abs(random()) % 200 = 0 AND id LIKE 'bulk-%'`);

const startSeq = db.prepare(`SELECT coalesce(max(rowid), 0) FROM "${table}"`).pluck().get();
const CHUNK = 500_000;
for (let from = 0; from < o.count; from += CHUNK) {
  db.transaction(() => insertChunk.run({ from, to: Math.min(o.count, from + CHUNK) }))();
}
const tInsert = performance.now();
const sessions = insertSessions ? insertSessions.run({ seq: startSeq }).changes : 0;
const lockouts = insertLockouts ? insertLockouts.run({ seq: startSeq }).changes : 0;
const tDerived = performance.now();
for (const ix of [...indexes, ...sessionIndexes]) db.exec(ix.sql);
const tIndex = performance.now();
// Everything the collector derives from events (rollups, search terms, last-seen hours): its own
// migrations and their backfills, as an existing store gets them on upgrade.
const before = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all());
collector.migrate(db);
const migrated = collector.migrations.filter((m) => !before.has(m.version)).map((m) => `${m.version} ${m.name}`);
const tMigrate = performance.now();
db.pragma('journal_mode = WAL');
db.close();
console.log(
  JSON.stringify({
    count: o.count,
    users,
    sessions,
    lockouts,
    migrations: migrated,
    insert_s: (tInsert - t0) / 1000,
    derive_s: (tDerived - tInsert) / 1000,
    index_s: (tIndex - tDerived) / 1000,
    migrate_s: (tMigrate - tIndex) / 1000,
    total_s: (performance.now() - t0) / 1000,
    indexes: [...indexes, ...sessionIndexes].map((i) => i.name),
  }),
);
