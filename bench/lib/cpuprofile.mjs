// Reads V8 .cpuprofile files (node --cpu-prof) and sums self time per function and per package.
// Self time of a node = the time deltas of the samples that landed in it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function where(url) {
  if (!url) return '(native/V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node core';
  const c = url.indexOf('collector/dist/');
  if (c >= 0) return `collector: ${url.slice(c + 'collector/dist/'.length)}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * Summarises one or more profiles: top functions and packages by self time, idle excluded.
 * `windows` ([{from, to}] in µs of the monotonic clock, i.e. process.hrtime.bigint() / 1000n in
 * any process on this machine) keeps only the samples taken inside them, so startup and idle
 * stretches do not dilute a load phase.
 */
export function summarise(profiles, topN = 20, windows = null) {
  const byFn = new Map();
  const byPkg = new Map();
  // Inclusive time of the collector's own functions (each sample counted once per function on
  // its stack): says which step of the pipeline the self time above belongs to.
  const inclusive = new Map();
  let total = 0;
  let idle = 0;
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const fnKey = (cf) => `${cf.functionName || '(anonymous)'}\t${where(cf.url)}:${cf.lineNumber + 1}`;
    const self = new Map();
    let t = p.startTime;
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] ?? 0;
      t += dt;
      if (windows && !windows.some((w) => t >= w.from && t <= w.to)) return;
      self.set(id, (self.get(id) ?? 0) + dt);
      if (nodes.get(id)?.callFrame.functionName === '(idle)') return;
      const seen = new Set();
      for (let n = id; n !== undefined; n = parent.get(n)) {
        const cf = nodes.get(n).callFrame;
        if (!cf.url || !cf.url.includes('collector/dist/')) continue;
        const k = fnKey(cf);
        if (seen.has(k)) continue;
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      }
    });
    for (const [id, us] of self) {
      const cf = nodes.get(id).callFrame;
      if (cf.functionName === '(idle)') {
        idle += us;
        continue;
      }
      total += us;
      const loc = cf.url ? `${where(cf.url)}:${cf.lineNumber + 1}` : where(cf.url);
      const key = `${cf.functionName || '(anonymous)'}\t${loc}`;
      byFn.set(key, (byFn.get(key) ?? 0) + us);
      const pkg = cf.url ? where(cf.url).replace(/:.*$/, '').replace(/^collector: .*/, 'collector') : cf.functionName.startsWith('(') ? cf.functionName : '(native/V8)';
      byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
    }
  }
  const pct = (us) => (100 * us) / (total || 1);
  return {
    busy_ms: total / 1000,
    idle_ms: idle / 1000,
    top: [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([k, us]) => {
        const [fn, location] = k.split('\t');
        return { function: fn, location, self_ms: us / 1000, self_pct: pct(us) };
      }),
    collector_inclusive: [...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([k, us]) => {
        const [fn, location] = k.split('\t');
        return { function: fn, location, total_ms: us / 1000, total_pct: pct(us) };
      }),
    packages: [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([name, us]) => ({ name, self_ms: us / 1000, self_pct: pct(us) })),
  };
}

export function summariseProfileDir(dir, topN = 20, windows = null) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  return { files, ...summarise(files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))), topN, windows) };
}

/** Now on the monotonic clock the profiles use, in µs. */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

// CLI: node bench/lib/cpuprofile.mjs <file-or-dir> [topN]
if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  const topN = Number(process.argv[3] ?? 25);
  const s = target.endsWith('.cpuprofile') ? summarise([JSON.parse(readFileSync(target, 'utf8'))], topN) : summariseProfileDir(target, topN);
  console.log(`busy ${s.busy_ms.toFixed(0)} ms, idle ${s.idle_ms.toFixed(0)} ms`);
  console.log('top self time by function:');
  for (const f of s.top) console.log(`  ${f.self_pct.toFixed(1).padStart(5)}%  ${f.function}  ${f.location}`);
  console.log('collector functions by inclusive time:');
  for (const f of s.collector_inclusive) console.log(`  ${f.total_pct.toFixed(1).padStart(5)}%  ${f.function}  ${f.location}`);
  console.log('by package:');
  for (const p of s.packages) console.log(`  ${p.self_pct.toFixed(1).padStart(5)}%  ${p.name}`);
}
