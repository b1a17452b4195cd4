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
const load = db.transaction((from, to) => {
  for (let i = from; i < to; i++) {
    const time = Math.round(end - span + i * step);
    const e = makeEvent(rand, { id: `bulk-${i}`, users });
    insert.run(toRow(toStored(e, { time, receivedAt: time, userAgents: USER_AGENTS })));
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
    insert_s: (tInsert - t0) / 1000,
    index_s: (tIndex - tInsert) / 1000,
    total_s: (performance.now() - t0) / 1000,
    indexes: indexes.map((i) => i.name),
  }),
);
