#!/usr/bin/env node
// Event-loop stalls of one collector under the P3 loads, named from its CPU profile: paced checks
// alone, then with 1,000-event batches. `node bench/loop-trace.mjs [--rate N] [--seconds S]`.
// A lower rate than P3's 1,000 req/s keeps a loaded machine from turning every loop turn into a
// backlog of checks, so what stands out is single long tasks. Prints stalls by kind per phase.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bearer, ensureBuilt, makeKeys, root, startCollector } from './lib/collector.mjs';
import { batchBody } from './lib/events.mjs';
import { runJsonProcess, settle } from './lib/proc.mjs';
import { monotonicMicros } from './lib/cpuprofile.mjs';
import { byKind, loopStalls } from './lib/loop-report.mjs';
import { checkLoad } from './p3-check.mjs';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '300' }, seconds: { type: 'string', default: '8' }, json: { type: 'string' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
ensureBuilt();
const tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-loop-'));
const loopDir = join(tmp, 'loop');
const profDir = join(tmp, 'prof');
mkdirSync(loopDir);
const keys = makeKeys();
const ingestH = bearer(keys.ingest);
const c = await startCollector({
  dbFile: join(tmp, 'c.db'), keys,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--require=${join(root, 'bench/lib/loop-trace.cjs')}`],
  env: { AUTHWATCH_LOOP_TRACE: loopDir },
});
const run = (script, o) => runJsonProcess([join(root, script), JSON.stringify(o)], { cwd: root, name: script });
const b = {
  tmp, M: { p3s: seconds },
  post: (url, path, body) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...ingestH }, body: JSON.stringify(body) }),
  log: (m) => console.log(`  · ${m}`),
};
const windows = {};
try {
  const batchFile = join(tmp, 'batch.json');
  writeFileSync(batchFile, batchBody(1000, 11));
  await b.post(c.url, '/v1/events', JSON.parse(batchBody(500, 17)));
  await settle(c.pid, 10000);
  const { probe, ...opts } = await checkLoad(b, c, 'trace');
  const paced = { ...opts, rate, url: c.url, headers: ingestH };
  const phase = async (name, fn) => {
    const from = monotonicMicros();
    const r = await fn();
    windows[name] = [{ from, to: monotonicMicros() }];
    return r;
  };
  const idle = await phase('idle', () => run('bench/load/paced.mjs', paced));
  await settle(c.pid, 10000);
  const [load, ingest] = await phase('ingest', () =>
    Promise.all([
      run('bench/load/paced.mjs', paced),
      run('bench/load/cannon.mjs', { url: `${c.url}/v1/events`, method: 'POST', bodyFile: batchFile, uniqueIds: true, headers: { 'content-type': 'application/json', ...ingestH }, connections: 2, duration: seconds + 1, timeout: 30 }),
    ]),
  );
  for (const [n, r] of [['idle', idle], ['ingest', load]]) console.log(`${n}: checks at ${rate}/s p50 ${r.latency_ms.p50.toFixed(2)} p99 ${r.latency_ms.p99.toFixed(2)} max ${r.latency_ms.max.toFixed(1)} ms, ${r.stalls.count} client-side stalls`);
  console.log(`ingest: ${ingest.ok2xx} batches in ${ingest.duration_s} s`);
} finally {
  await c.stop();
}
const out = {};
for (const [name, w] of Object.entries(windows)) {
  for (const p of loopStalls(loopDir, profDir, w)) {
    // Our own long tasks: > 5 ms on a CPU in a stretch that at most 2 requests arrived in (more is a
    // backlog of short tasks, e.g. a starved client sending a burst).
    const own = p.stalls.filter((s) => s.cpu_ms > 5 && s.requests <= 2);
    out[name] = { stalls: p.stalls, kinds: byKind(p.stalls), own_kinds: byKind(own), gcs: p.gcs, heap: p.heap };
    const gcMax = p.gcs.reduce((a, g) => Math.max(a, g.ms), 0);
    console.log(`\n${name}: ${p.stalls.length} stalls > 5 ms (max ${Math.max(0, ...p.stalls.map((s) => s.wall_ms)).toFixed(1)} ms wall), ${own.length} with > 5 ms on CPU and ≤ 2 requests (listed), ${p.stalls.filter((s) => s.cpu_ms > 5 && s.requests > 2).length} backlogs of > 2 requests; GC pauses ${p.gcs.length} (max ${gcMax.toFixed(1)} ms); heap used ${(p.heap.heapUsed / 2 ** 20).toFixed(0)} MiB at exit`);
    for (const k of byKind(own)) console.log(`  ${String(k.count).padStart(4)} × max ${k.max_cpu_ms.toFixed(1)} ms on CPU (${k.max_wall_ms.toFixed(1)} wall)  ${k.kind}\n         ${k.stack}`);
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 1));
rmSync(tmp, { recursive: true, force: true });
