#!/usr/bin/env node
// Baseline for P2: bare better-sqlite3 inserting the same rows the collector stores for the P2
// batch, into a copy of a database file the collector created (same columns, indexes, triggers),
// with the collector's journal_mode / synchronous, 1,000 rows per transaction. Prints JSON.
// Options (one JSON argument): templateDb, dbFile, bodyFile, seconds, pragmas ({name: value}),
// batchSize (default: the whole body), minimal (P2b: a 2-column row instead of the collector's).
import Database from 'better-sqlite3';
import { copyFileSync, readFileSync } from 'node:fs';
import { describeEvents, rowMapper, toStored } from '../lib/store-schema.mjs';
import { USER_AGENTS } from '../lib/events.mjs';

const o = JSON.parse(process.argv[2]);
copyFileSync(o.templateDb, o.dbFile);
const db = new Database(o.dbFile);
// The collector's own connection settings (collectorPragmas), e.g. journal_mode, synchronous,
// cache_size, wal_autocheckpoint.
for (const [name, value] of Object.entries(o.pragmas ?? { journal_mode: o.journal_mode, synchronous: o.synchronous })) db.pragma(`${name} = ${value}`);

if (o.minimal) {
  // P2b: the smallest useful row (integer key, short text) into a table of its own: what
  // better-sqlite3 and the disk do when the row costs nothing.
  db.exec('CREATE TABLE minimal (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const ins = db.prepare('INSERT INTO minimal (v) VALUES (?)');
  const batch = db.transaction(() => {
    for (let k = 0; k < 1000; k++) ins.run('x');
  });
  const deadline = performance.now() + o.seconds * 1000;
  const t0 = performance.now();
  let batches = 0;
  while (performance.now() < deadline) {
    batch();
    batches++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  db.close();
  console.log(JSON.stringify({ rows: batches * 1000, seconds: elapsed, rows_per_s: (batches * 1000) / elapsed, batch_size: 1000, columns: 2 }));
  process.exit(0);
}

const { table, columns } = describeEvents(db);
const { names, toRow } = rowMapper(columns);
const insert = db.prepare(`INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(',')}) VALUES (${names.map(() => '?').join(',')})`);
const idCol = names.indexOf('id');

const events = JSON.parse(readFileSync(o.bodyFile, 'utf8'));
const now = Date.now();
// batchSize < 1,000 measures smaller transactions (batchSize 1: durable commits per second).
const rows = events.slice(0, o.batchSize ?? events.length).map((e) => toRow(toStored(e, { time: now, receivedAt: now, userAgents: USER_AGENTS })));
// Unique ids per batch: "b<batch>-<row>".
const batch = db.transaction((batchNo) => {
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (idCol >= 0) r[idCol] = `b${batchNo}-${k}`;
    insert.run(r);
  }
});

const deadline = performance.now() + o.seconds * 1000;
const t0 = performance.now();
let batches = 0;
while (performance.now() < deadline) batch(batches++);
const elapsed = (performance.now() - t0) / 1000;
db.close();
console.log(JSON.stringify({ rows: batches * rows.length, seconds: elapsed, rows_per_s: (batches * rows.length) / elapsed, batch_size: rows.length, columns: names.length }));
