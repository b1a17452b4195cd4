#!/usr/bin/env node
// P8 hot keys: does a batch's cost on PostgreSQL grow with the detection windows it touches?
// `node bench/p8-hot-windows.mjs [--batches N] [--main another build's collector/dist/main.js]`,
// or with the P8 run (`npm run bench -- --pg`). AUTHWATCH_TEST_PG: an admin URL.
//
// The collector's own store and detections (imported from collector/dist, no HTTP): 1,000-event
// batches, each with 50 addresses spraying 10 failures apiece and 500 ordinary logins from fresh
// addresses, one second apart in event time, so the hot addresses' windows grow by 10 attempts a
// batch (1,500 after 150). Each batch is one write transaction (its events, then the windowed
// detections, each in its savepoint, as a group commit runs them), on 1 store, then alternating
// between 2 stores (2 replicas) on a fresh database. The figure: ms per batch in the last fifth
// of the run over the first fifth, from after the events' insert to the commit. Our target, not an
// issue's: ≤ 1.5x.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { admin, dbUrl } from './lib/pg.mjs';
import { collectorMain, ensureBuilt } from './lib/collector.mjs';

const TARGET = 1.5;

async function runOnce(dist, adminUrl, replicas, batches) {
  const { PostgresStore } = await import(pathToFileURL(join(dist, 'store/postgres.js')).href);
  const { createDetections } = await import(pathToFileURL(join(dist, 'processors/detections/index.js')).href);
  const { parseDetectionConfig } = await import(pathToFileURL(join(dist, 'processors/detections/config.js')).href);
  const { blankEvent } = await import(pathToFileURL(join(dist, 'schema/stored-event.js')).href);
  const db = `authwatch_p8hot_${process.pid}_${replicas}`;
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin(adminUrl, `CREATE DATABASE ${db}`);
  const stores = [];
  try {
    for (let i = 0; i < replicas; i++) stores.push(await PostgresStore.open(dbUrl(adminUrl, db)));
    const procs = stores.map(() => createDetections(parseDetectionConfig({ AUTHWATCH_DETECT: 'brute_force,password_spray,credential_stuffing' })));
    const ms = [];
    const t0 = Date.now();
    let id = 0;
    for (let b = 0; b < batches; b++) {
      const now = t0 + b * 1000;
      const events = [];
      for (let h = 0; h < 50; h++) {
        for (let j = 0; j < 10; j++)
          events.push(
            blankEvent({ id: `h${id++}`, time: now, type: 'login', outcome: 'failure', reason: 'invalid_password', user: `victim${(b * 10 + j) % 5000}`, ip: `203.0.${h}.9` }),
          );
      }
      for (let j = 0; j < 500; j++) {
        events.push(
          blankEvent({
            id: `h${id++}`,
            time: now,
            type: 'login',
            outcome: j % 3 ? 'success' : 'failure',
            user: `user${(b * 500 + j) % 20000}`,
            ip: `198.${(b * 2 + (j >> 8)) % 250}.${j % 250}.1`,
          }),
        );
      }
      const r = b % replicas;
      // Timed from after the events' insert to the commit (the detections and the writes they
      // buffer): the insert's own cost grows with the events table, whatever the windows do.
      let start = 0n;
      await stores[r].write(async (tx) => {
        await tx.insertEvents(events);
        start = process.hrtime.bigint();
        const ctx = { now, tx, policy: await tx.getPolicy(), emit: () => undefined };
        for (const p of procs[r]) await tx.savepoint(() => p.process(events, ctx));
      });
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const fifth = Math.max(1, Math.floor(batches / 5));
    const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    return { first: avg(ms.slice(0, fifth)), last: avg(ms.slice(-fifth)), windowAttempts: batches * 10 };
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
  }
}

/** The figure: { id, name, value, unit, target, pass, detail, line }. */
export async function hotWindows(options = {}) {
  const adminUrl = options.adminUrl ?? process.env.AUTHWATCH_TEST_PG;
  if (!adminUrl) throw new Error('P8 hot keys needs AUTHWATCH_TEST_PG');
  const batches = options.batches ?? 150;
  ensureBuilt();
  const dist = dirname(options.main ?? collectorMain());
  const one = await runOnce(dist, adminUrl, 1, batches);
  const two = await runOnce(dist, adminUrl, 2, batches);
  const growth = Math.max(one.last / one.first, two.last / two.first);
  const f = (x) => x.toFixed(1);
  return {
    id: 'P8-hot',
    name: "PostgreSQL batch cost as hot keys' detection windows grow",
    value: Math.round(growth * 100) / 100,
    unit: 'x',
    target: `last fifth ≤ ${TARGET}x of the first (ours)`,
    pass: growth <= TARGET,
    detail: { batches, one, two },
    line:
      `P8 hot keys: detection ms per 1,000-event batch as 50 addresses' windows grow to ${one.windowAttempts.toLocaleString('en-US')} attempts: ` +
      `1 replica ${f(one.first)} → ${f(one.last)} ms (${(one.last / one.first).toFixed(2)}x), 2 replicas alternating ${f(two.first)} → ${f(two.last)} ms (${(two.last / two.first).toFixed(2)}x), first fifth → last fifth of ${batches} batches`,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const at = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const fig = await hotWindows({ batches: at('--batches') ? Number(at('--batches')) : undefined, main: at('--main') });
  console.log(`${fig.line}  ${fig.pass ? 'PASS' : 'MISS'} (target ${fig.target})`);
}
