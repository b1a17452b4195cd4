#!/usr/bin/env node
// The longest event-loop stall around the first events of a fresh collector: one event from a
// private address, a pause, then one from a public address (which needs the ASN tables).
// `node bench/asn-first-stall.mjs [--pause-ms N]`
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bearer, ensureBuilt, makeKeys, root, startCollector } from './lib/collector.mjs';
import { loopStalls } from './lib/loop-report.mjs';

const { values } = parseArgs({ options: { 'pause-ms': { type: 'string', default: '3000' } } });
ensureBuilt();
const tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-asn-'));
const loopDir = join(tmp, 'loop');
mkdirSync(loopDir);
const keys = makeKeys();
const c = await startCollector({ dbFile: join(tmp, 'c.db'), keys, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(tmp, 'prof')}`, `--require=${join(root, 'bench/lib/loop-trace.cjs')}`], env: { AUTHWATCH_LOOP_TRACE: loopDir } });
const send = (ip, id) =>
  fetch(`${c.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(keys.ingest) }, body: JSON.stringify({ type: 'login', outcome: 'success', user: 'asn-probe', ip, id }) });
try {
  await new Promise((r) => setTimeout(r, 1000)); // past startup
  console.log(`private address: ${(await send('10.1.2.3', 'asn-1')).status}`);
  await new Promise((r) => setTimeout(r, Number(values['pause-ms'])));
  const t = performance.now();
  console.log(`public address: ${(await send('8.8.8.8', 'asn-2')).status} in ${(performance.now() - t).toFixed(0)} ms`);
  await new Promise((r) => setTimeout(r, 500));
} finally {
  await c.stop();
}
for (const p of loopStalls(loopDir, join(tmp, 'prof'))) {
  const own = p.stalls.filter((s) => s.cpu_ms > 5).sort((a, b) => b.cpu_ms - a.cpu_ms);
  console.log(`stalls > 5 ms on CPU after startup: ${own.length}; longest ${own.slice(0, 3).map((s) => `${s.cpu_ms.toFixed(1)} ms on CPU (${s.wall_ms.toFixed(1)} wall): ${s.stack}`).join('\n  ') || 'none'}`);
}
rmSync(tmp, { recursive: true, force: true });
