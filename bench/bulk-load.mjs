#!/usr/bin/env node
// Bulk-loads N realistic events straight into a collector SQLite file, for the query benchmarks
// (P4). Starts from a file the collector created (its own migrations), drops the events indexes,
// inserts in 100k-row transactions with synchronous=OFF, then rebuilds the indexes — the same end
// state as ingesting through the API, minutes faster. Times are spread evenly over `days` days
// ending now, in time order, as live ingest would write them.
// Usage: node bench/bulk-load.mjs '{"templateDb":…,"dbFile":…,"count":1000000,"days":30}'
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { describeEvents, rowMapper, toStored } from './lib/store-schema.mjs';
import { makeEvent, rng, USER_AGENTS } from './lib/events.mjs';

const o = JSON.parse(process.argv[2]);
const t0 = performance.now();
copyFileSync(o.templateDb, o.dbFile);
const db = new Database(o.dbFile);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = OFF');
db.pragma('cache_size = -262144'); // 256 MiB

const { table, columns, indexes } = describeEvents(db);
const { names, toRow } = rowMapper(columns);
for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`);
const insert = db.prepare(`INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(',')}) VALUES (${names.map(() => '?').join(',')})`);

const rand = rng(o.seed ?? 42);
const users = o.users ?? Math.max(5000, Math.round(o.count / 200));
const end = Date.now() - 60_000;
const span = (o.days ?? 30) * 86_400_000;
const step = span / o.count;
const CHUNK = 100_000;
// Sessions and lockouts the pipeline would have made from these events (same tables, by column
// name): one session per successful login (ended by idle timeout or logout unless it was seen in
// the last 20 minutes, inside the default 30-minute idle timeout), and an expired lockout for about
// one failed login in 200, a few of the recent ones still active.
const sessionsTable = tableColumns('sessions');
const lockoutsTable = tableColumns('lockouts');
const insertSession = sessionsTable && prepareInsert('sessions', sessionsTable, 'OR IGNORE');
const insertLockout = lockoutsTable && prepareInsert('lockouts', lockoutsTable, '');
let sessionsMade = 0;
let lockoutsMade = 0;

function tableColumns(name) {
  const cols = db.prepare(`PRAGMA table_info("${name}")`).all();
  return cols.length ? cols.filter((c) => !(c.pk === 1 && /INTEGER/i.test(c.type))) : null;
}
function prepareInsert(name, cols, or) {
  const stmt = db.prepare(`INSERT ${or} INTO "${name}" (${cols.map((c) => `"${c.name}"`).join(',')}) VALUES (${cols.map(() => '?').join(',')})`);
  return (obj) => stmt.run(cols.map((c) => obj[c.name] ?? (c.notnull && c.dflt_value === null ? (/INT|REAL/i.test(c.type) ? 0 : '') : null)));
}

const load = db.transaction((from, to) => {
  for (let i = from; i < to; i++) {
    const time = Math.round(end - span + i * step);
    const e = makeEvent(rand, { id: `bulk-${i}`, users });
    const stored = toStored(e, { time, receivedAt: time, userAgents: USER_AGENTS });
    insert.run(toRow(stored));
    if (insertSession && e.type === 'login' && e.outcome === 'success' && stored.session_id) {
      const lastSeen = time + Math.floor(rand() * 1_200_000);
      const active = lastSeen > Date.now() - 1_200_000;
      insertSession({
        ...stored,
        id: stored.session_id,
        started_at: time,
        last_seen_at: Math.min(lastSeen, Date.now()),
        ended_at: active ? null : lastSeen + 1_800_000,
        end_reason: active ? null : rand() < 0.6 ? 'idle_timeout' : 'logout',
      });
      sessionsMade++;
    }
    if (insertLockout && e.outcome === 'failure' && rand() < 0.005) {
      const until = time + 900_000;
      insertLockout({ scope: 'user', user: e.user, ip: null, failures: 6, locked_at: time, locked_until: until, reason: 'too_many_failures', unlocked_at: null, unlocked_by: null });
      lockoutsMade++;
    }
  }
});
for (let i = 0; i < o.count; i += CHUNK) load(i, Math.min(o.count, i + CHUNK));
const tInsert = performance.now();
for (const ix of indexes) db.exec(ix.sql);
const tIndex = performance.now();
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
console.log(
  JSON.stringify({
    count: o.count,
    users,
    sessions: sessionsMade,
    lockouts: lockoutsMade,
    insert_s: (tInsert - t0) / 1000,
    index_s: (tIndex - tInsert) / 1000,
    total_s: (performance.now() - t0) / 1000,
    indexes: indexes.map((i) => i.name),
  }),
);
