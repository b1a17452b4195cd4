// What ran while the event loop stood still: joins the stalls bench/lib/loop-trace.cjs recorded with
// the event-loop thread's CPU profile of the same process (samples inside each stall), and names
// each stall by the collector function most of its samples were in (innermost collector frame), or
// GC / a package / node core when no collector frame is on the stack.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function label(nodes, parent, id) {
  const leaf = nodes.get(id).callFrame;
  if (leaf.functionName === '(garbage collector)') return { kind: 'GC', chain: 'GC' };
  if (leaf.functionName === '(program)') return { kind: '(program: V8/native outside JS)', chain: '(program)' };
  const chain = [];
  let other = null;
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const cf = nodes.get(n).callFrame;
    const c = cf.url?.indexOf('collector/dist/') ?? -1;
    if (c >= 0) chain.push(`${cf.functionName || '(anonymous)'} (${cf.url.slice(c + 'collector/dist/'.length)}:${cf.lineNumber + 1})`);
    else if (!other && cf.url) {
      const nm = cf.url.lastIndexOf('node_modules/');
      other = nm >= 0 ? cf.url.slice(nm + 13).split('/').slice(0, cf.url.slice(nm + 13).startsWith('@') ? 2 : 1).join('/') : cf.url.replace(/^file:\/\//, '');
      other = `${other}: ${cf.functionName || '(anonymous)'}`;
    }
  }
  if (chain.length) return { kind: chain[0], chain: chain.slice(0, 5).join(' < ') };
  return { kind: other ?? leaf.functionName ?? '?', chain: other ?? leaf.functionName };
}

/** For each traced process: its stalls, each with its dominant kind and stack, inside the windows. */
export function loopStalls(traceDir, profDir, windows = null) {
  if (!existsSync(traceDir)) return [];
  const profiles = existsSync(profDir) ? readdirSync(profDir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)) : [];
  const out = [];
  for (const f of readdirSync(traceDir).filter((x) => /^loop-\d+\.json$/.test(x))) {
    const trace = JSON.parse(readFileSync(join(traceDir, f), 'utf8'));
    const inWin = (t) => !windows || windows.some((w) => t >= w.from && t <= w.to);
    const stalls = trace.stalls.filter((s) => inWin(s.from) || inWin(s.to));
    const pf = profiles.find((p) => p.split('.')[3] === String(trace.pid));
    const samples = [];
    let nodes, parent;
    if (pf) {
      const p = JSON.parse(readFileSync(join(profDir, pf), 'utf8'));
      nodes = new Map(p.nodes.map((n) => [n.id, n]));
      parent = new Map();
      for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      let t = p.startTime;
      p.samples.forEach((id, i) => {
        t += p.timeDeltas[i] ?? 0;
        samples.push([t, id]);
      });
    }
    let i = 0;
    for (const s of stalls) {
      while (i < samples.length && samples[i][0] < s.from) i++;
      const count = new Map();
      for (let j = i; j < samples.length && samples[j][0] <= s.to; j++) {
        if (nodes.get(samples[j][1]).callFrame.functionName === '(idle)') continue;
        const l = label(nodes, parent, samples[j][1]);
        const c = count.get(l.kind) ?? { n: 0, chain: l.chain };
        c.n++;
        count.set(l.kind, c);
      }
      const top = [...count.entries()].sort((a, b) => b[1].n - a[1].n);
      s.kind = top[0]?.[0] ?? (pf ? '(no samples)' : '(no profile)');
      s.stack = top[0]?.[1].chain ?? '';
      s.mix = top.slice(0, 3).map(([k, c]) => `${k} ×${c.n}`).join(', ');
      s.gc_ms = trace.gcs.filter((g) => g.at >= s.from - 1000 && g.at <= s.to).reduce((a, g) => a + g.ms, 0);
    }
    out.push({ pid: trace.pid, heap: trace.heap, gcs: trace.gcs.filter((g) => inWin(g.at)), stalls });
  }
  return out;
}

/** Per kind: count, max wall and max on-CPU ms, and one stack. */
export function byKind(stalls) {
  const m = new Map();
  for (const s of stalls) {
    const k = m.get(s.kind) ?? { kind: s.kind, count: 0, max_wall_ms: 0, max_cpu_ms: 0, stack: s.stack };
    k.count++;
    k.max_wall_ms = Math.max(k.max_wall_ms, s.wall_ms);
    k.max_cpu_ms = Math.max(k.max_cpu_ms, s.cpu_ms);
    m.set(s.kind, k);
  }
  return [...m.values()].sort((a, b) => b.count - a.count);
}
