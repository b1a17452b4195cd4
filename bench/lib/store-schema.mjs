// The collector's own SQLite schema, read back from a file the collector itself created (so the
// baselines and the bulk loader use exactly its columns and indexes — no copy of the DDL lives
// here), its migrations and write-connection settings imported from collector/dist, plus a
// mapping from wire events to rows of its events table.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';

/** Finds the events table: named "events", else the first table with id + user + time columns. */
export function describeEvents(db) {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all().map((r) => r.name);
  const cols = (t) => db.prepare(`PRAGMA table_info("${t}")`).all();
  let table = tables.find((t) => t === 'events');
  if (!table) {
    table = tables.find((t) => {
      const names = cols(t).map((c) => c.name);
      return names.includes('id') && names.includes('user') && names.includes('time');
    });
  }
  if (!table) throw new Error(`no events table in the collector's schema (tables: ${tables.join(', ')})`);
  const columns = cols(table);
  const indexes = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL")
    .all(table);
  const triggers = db.prepare("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=?").all(table);
  return { table, columns, indexes, triggers, tables };
}

/**
 * The built collector's own SQLite code (collector/dist): its migrations, its write-connection
 * settings and its migrate(), so the baselines and the bulk loader use exactly what the collector
 * uses instead of re-reading its source.
 */
export function collectorSqlite(root) {
  const require = createRequire(import.meta.url);
  // Another build under test (AUTHWATCH_BENCH_COLLECTOR) when it has these modules, else this tree's.
  const other = process.env.AUTHWATCH_BENCH_COLLECTOR ? dirname(process.env.AUTHWATCH_BENCH_COLLECTOR) : null;
  const dist = other && existsSync(join(other, 'store/sqlite-write.js')) ? other : join(root, 'collector/dist');
  const write = require(join(dist, 'store/sqlite-write.js'));
  const { sqliteMigrations } = require(join(dist, 'store/migrations/sqlite.js'));
  return { writePragmas: write.writePragmas, migrate: write.migrate, migrations: sqliteMigrations };
}

/**
 * The pragmas the collector's SQLite store sets on its write connection (journal_mode,
 * synchronous, cache_size, wal_autocheckpoint…): pragmas are per connection and cannot be read
 * back from the file. The baselines apply the same ones, so that they compare the work and not
 * the tuning. AUTHWATCH_SQLITE_SYNC=normal is applied as the collector would.
 */
export function collectorPragmas(root) {
  const { writePragmas } = collectorSqlite(root);
  const settings = { ...writePragmas(process.env.AUTHWATCH_SQLITE_SYNC?.trim().toLowerCase() === 'normal' ? 'normal' : 'full') };
  return { settings, source: 'collector/dist/store/sqlite-write.js', journal_mode: String(settings.journal_mode).toUpperCase(), synchronous: String(settings.synchronous).toUpperCase() };
}

// Plausible enrichment for bulk-loaded rows, keyed by the generators' IP prefixes and UA order.
export const GEO = {
  '8.8.': ['US', 'Mountain View', 15169, 'Google LLC', 37.4, -122.1],
  '81.2.': ['GB', 'London', 20712, 'Andrews & Arnold Ltd', 51.5, -0.1],
  '2.125.': ['GB', 'Boxford', 12576, 'EE Limited', 51.8, 0.9],
  '126.0.': ['JP', 'Tokyo', 17676, 'SoftBank Corp.', 35.7, 139.7],
  '177.37.': ['BR', 'Fortaleza', 28126, 'Brisanet', -3.7, -38.5],
  '1.128.': ['AU', 'Sydney', 1221, 'Telstra', -33.9, 151.2],
  '49.36.': ['IN', 'Mumbai', 55836, 'Reliance Jio', 19.1, 72.9],
  '90.84.': ['FR', 'Paris', 3215, 'Orange S.A.', 48.9, 2.3],
};
export const UA = [
  ['Chrome', '124.0.0.0', 'Windows', '10', 'desktop'],
  ['Safari', '17.4', 'Mac OS', '10.15.7', 'desktop'],
  ['Firefox', '125.0', 'Linux', null, 'desktop'],
  ['Mobile Safari', '17.4', 'iOS', '17.4', 'mobile'],
  ['Chrome', '124.0.0.0', 'Android', '14', 'mobile'],
  [null, null, 'Android', '13', 'mobile'],
];
const UA_INDEX = new Map();

/** A wire event turned into the StoredEvent fields (schema/stored-event.ts), enrichment included. */
export function toStored(e, { time, receivedAt, userAgents }) {
  const geo = GEO[Object.keys(GEO).find((p) => e.ip?.startsWith(p))] ?? [null, null, null, null, null, null];
  let ua = UA_INDEX.get(e.user_agent);
  if (ua === undefined) {
    ua = UA[userAgents.indexOf(e.user_agent)] ?? [null, null, null, null, null];
    UA_INDEX.set(e.user_agent, ua);
  }
  return {
    id: e.id,
    time,
    received_at: receivedAt,
    type: e.type,
    outcome: e.outcome ?? null,
    reason: e.reason ?? null,
    user: e.user,
    user_id: e.user_id ?? null,
    email: e.email ?? null,
    session_id: e.session_id ? createHash('sha256').update(e.session_id).digest('hex') : null,
    ip: e.ip ?? null,
    user_agent: e.user_agent ?? null,
    device: e.device ?? null,
    app_version: e.app_version ?? null,
    service: e.service ?? null,
    entry: e.entry ?? null,
    attributes: e.attributes ? JSON.stringify(e.attributes) : null,
    actor: null,
    country: geo[0],
    city: geo[1],
    asn: geo[2],
    isp: geo[3],
    latitude: geo[4],
    longitude: geo[5],
    browser: ua[0],
    browser_version: ua[1],
    os: ua[2],
    os_version: ua[3],
    device_type: ua[4],
  };
}

/**
 * Column list + a function turning a StoredEvent into that column order. Columns the collector
 * adds beyond StoredEvent get a neutral value by declared type when NOT NULL without default.
 */
export function rowMapper(columns) {
  const insertable = columns.filter((c) => !(c.pk === 1 && /INTEGER/i.test(c.type) && c.name !== 'id'));
  const pick = insertable.map((c) => {
    const numeric = /INT|REAL|NUM|FLOA|DOUB/i.test(c.type);
    if (c.name === 'attributes' || c.name === 'attributes_json') return (s) => s.attributes;
    if (c.name === 'time' || c.name === 'received_at' || c.name === 'time_ms') {
      const key = c.name === 'received_at' ? 'received_at' : 'time';
      return numeric ? (s) => s[key] : (s) => new Date(s[key]).toISOString();
    }
    if (c.name === 'user_name') return (s) => s.user;
    return (s) => {
      const v = s[c.name];
      if (v !== undefined && v !== null) return v;
      if (c.notnull && c.dflt_value === null) return numeric ? 0 : '';
      return null;
    };
  });
  return { names: insertable.map((c) => c.name), toRow: (s) => pick.map((f) => f(s)) };
}
