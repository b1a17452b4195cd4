#!/usr/bin/env node
// Soak (manual, not in CI): `node bench/soak.mjs --minutes N [--rate EVENTS_PER_S] [--batch N]`
// Runs the collector under steady paced ingest (plus /v1/check and read queries), samples its RSS
// every few seconds and prints the trend: a leak shows as a positive slope after warm-up.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { rssMiB } from './lib/proc.mjs';
import { ensureBuilt, makeKeys, startCollector, bearer } from './lib/collector.mjs';
import { makeEvent, rng, userName, ipFor } from './lib/events.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const minutes = arg('minutes', 5);
const rate = arg('rate', 1000); // events/s
const batch = arg('batch', 100);
const sampleEvery = arg('sample', 5); // seconds

ensureBuilt();
const dir = mkdtempSync(join(os.tmpdir(), 'authwatch-soak-'));
const keys = makeKeys();
const c = await startCollector({ dbFile: join(dir, 'authwatch.db'), keys });
console.log(`soak: collector pid ${c.pid} at ${c.url}; ${rate} events/s in batches of ${batch}, plus checks and queries, for ${minutes} min`);

const rand = rng(99);
let seq = 0;
let acked = 0;
let failed = 0;
let checks = 0;
const post = (path, body, key) =>
  fetch(`${c.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(key) }, body: JSON.stringify(body) });

const batchesPerSecond = rate / batch;
// At most 8 batches in flight: past the collector's capacity the soak skips sends (and says so)
// instead of piling up requests, which would measure the backlog rather than the collector.
let inFlight = 0;
let skipped = 0;
const failures = {};
const ingestTimer = setInterval(async () => {
  if (inFlight >= 8) {
    skipped += batch;
    return;
  }
  const events = Array.from({ length: batch }, () => makeEvent(rand, { id: `soak-${seq++}`, users: 20000 }));
  inFlight++;
  try {
    const r = await post('/v1/events', events, keys.ingest);
    const body = await r.text();
    if (r.status === 202) acked += batch;
    else {
      failed += batch;
      const k = `${r.status} ${body.slice(0, 80)}`;
      failures[k] = (failures[k] ?? 0) + 1;
    }
  } catch (err) {
    failed += batch;
    failures[String(err.cause?.code ?? err.message)] = (failures[String(err.cause?.code ?? err.message)] ?? 0) + 1;
  } finally {
    inFlight--;
  }
}, 1000 / batchesPerSecond);
const checkTimer = setInterval(async () => {
  try {
    const r = await post('/v1/check', { user: userName(Math.floor(rand() * 20000)), ip: ipFor(rand) }, keys.ingest);
    await r.arrayBuffer();
    checks++;
  } catch {}
}, 5);
const queryTimer = setInterval(async () => {
  for (const p of ['/v1/events?limit=100', '/v1/sessions?state=active&limit=100', '/v1/lockouts?state=locked']) {
    try {
      await (await fetch(`${c.url}${p}`, { headers: bearer(keys.read) })).arrayBuffer();
    } catch {}
  }
}, 1000);

const samples = [];
const t0 = Date.now();
await new Promise((resolve) => {
  const sample = () => {
    const t = (Date.now() - t0) / 1000;
    const rss = rssMiB(c.pid);
    samples.push({ t, rss });
    console.log(`t=${t.toFixed(0).padStart(5)} s  rss ${rss?.toFixed(1)} MiB  acked ${acked}  failed ${failed}  skipped ${skipped}  checks ${checks}`);
    if (t >= minutes * 60) return resolve();
    setTimeout(sample, sampleEvery * 1000);
  };
  sample();
});
clearInterval(ingestTimer);
clearInterval(checkTimer);
clearInterval(queryTimer);

// Least-squares slope over the second half (after warm-up), MiB per minute.
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.rss, 0) / n;
  const num = points.reduce((a, p) => a + (p.t - mx) * (p.rss - my), 0);
  const den = points.reduce((a, p) => a + (p.t - mx) ** 2, 0);
  return den ? (num / den) * 60 : 0;
}
const late = samples.slice(Math.floor(samples.length / 2));
const rssValues = samples.map((s) => s.rss);
console.log(
  `soak done: ${acked} events acknowledged (${failed} failed), ${checks} checks in ${minutes} min; ` +
    `RSS start ${rssValues[0]?.toFixed(1)} MiB, max ${Math.max(...rssValues).toFixed(1)} MiB, end ${rssValues.at(-1)?.toFixed(1)} MiB; ` +
    `trend over the second half ${slope(late).toFixed(2)} MiB/min (whole run ${slope(samples).toFixed(2)} MiB/min); ` +
    `${skipped} events skipped at the in-flight cap`,
);
if (Object.keys(failures).length) console.log(`failures: ${JSON.stringify(failures)}`);
await c.stop();
rmSync(dir, { recursive: true, force: true });
