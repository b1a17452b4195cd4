#!/usr/bin/env node
// CPU time the collector's event-loop thread spends per plain /v1/check (and per 1,000-event batch),
// from /proc/<pid>/task/<pid>/schedstat: on-CPU time, so a loaded machine stretches the wall clock
// but not this figure. `node bench/check-cpu.mjs [--rate N] [--seconds S] [--batches N] [--cpu-prof-dir DIR] [--node-args="…"]`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bearer, ensureBuilt, makeKeys, root, startCollector } from './lib/collector.mjs';
import { batchBody } from './lib/events.mjs';
import { runJsonProcess, settle, startServer } from './lib/proc.mjs';
import { checkLoad } from './p3-check.mjs';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '500' }, seconds: { type: 'string', default: '6' }, batches: { type: 'string', default: '20' }, 'cpu-prof-dir': { type: 'string' }, 'node-args': { type: 'string' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
ensureBuilt();
const tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-cpu-'));
const keys = makeKeys();
const ingestH = bearer(keys.ingest);
const nodeArgs = values['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] : [];
// e.g. --node-args="--heap-prof --heap-prof-dir=/tmp/x" or --node-args=--max-semi-space-size=4
if (values['node-args']) nodeArgs.push(...values['node-args'].split(/\s+/).filter(Boolean));
const c = await startCollector({ dbFile: join(tmp, 'c.db'), keys, nodeArgs });
const cpuOf = (pid) => () => Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
const onCpuMs = cpuOf(c.pid);
const post = (path, body) => fetch(`${c.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...ingestH }, body });
try {
  const batch = batchBody(1000, 11);
  await post('/v1/events', batchBody(500, 17));
  await settle(c.pid, 10000);
  const { probe, ...opts } = await checkLoad({ tmp, M: { p3s: seconds }, post: (u, p, b) => post(p, JSON.stringify(b)), log: () => undefined }, c, 'cpu');
  // The client's own process runs beside the collector: only the collector's thread is counted.
  const before = onCpuMs();
  const r = await runJsonProcess([join(root, 'bench/load/paced.mjs'), JSON.stringify({ ...opts, rate, warmup: 0, url: c.url, headers: ingestH })], { cwd: root });
  const checkMs = onCpuMs() - before;
  const n = Object.values(r.statuses).reduce((a, b) => a + b, 0);
  console.log(`plain /v1/check: ${((checkMs * 1000) / n).toFixed(0)} µs on the event-loop thread per check (${n} checks, ${checkMs.toFixed(0)} ms; p50 ${r.latency_ms.p50.toFixed(2)} ms, p99 ${r.latency_ms.p99.toFixed(2)} ms wall at load ${os.loadavg()[0].toFixed(1)})`);
  // The same client against bare node:http: what this machine charges for an HTTP request at all.
  const echo = await startServer([join(root, 'bench/baselines/http-echo.mjs')], { cwd: root, name: 'http-echo' });
  try {
    const echoCpu = cpuOf(echo.pid);
    const e0 = echoCpu();
    const e = await runJsonProcess([join(root, 'bench/load/paced.mjs'), JSON.stringify({ ...opts, rate, warmup: 0, url: echo.url, headers: {} })], { cwd: root });
    const en = Object.values(e.statuses).reduce((a, b) => a + b, 0);
    console.log(`bare node:http, same client: ${(((echoCpu() - e0) * 1000) / en).toFixed(0)} µs per request`);
  } finally {
    await echo.stop();
  }
  const nb = Number(values.batches);
  const b0 = onCpuMs();
  for (let i = 0; i < nb; i++) await post('/v1/events', batch.replaceAll('[<id>]', `cpu-${i}-`));
  const batchMs = onCpuMs() - b0;
  console.log(`1,000-event batch: ${(batchMs / nb).toFixed(1)} ms on the event-loop thread per batch (${nb} batches, one at a time)`);
} finally {
  await c.stop();
  rmSync(tmp, { recursive: true, force: true });
}
