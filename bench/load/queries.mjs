#!/usr/bin/env node
// Query latency client: runs each named GET query `repeat` times, one request at a time (a Grafana
// panel refresh is a handful of sequential/parallel queries, not a flood), after `warm` unmeasured
// runs, and prints p50/p95/max per query plus the first response's size as one JSON line.
// Options (one JSON argument): url, headers, repeat, warm, budgetMs, queries: [{name, path}].
import http from 'node:http';

const o = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(path) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    http
      .get(new URL(path, o.url), { agent, headers: o.headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const pct = (s, p) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
const results = [];
for (const q of o.queries) {
  let first;
  for (let i = 0; i < (o.warm ?? 2); i++) first ??= await get(q.path);
  const times = [];
  const statuses = {};
  // A very slow query (a full scan at 10M events) stops after budgetMs, with at least 3 runs.
  const deadline = performance.now() + (o.budgetMs ?? 60_000);
  for (let i = 0; i < o.repeat && (i < 3 || performance.now() < deadline); i++) {
    const r = await get(q.path);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  let rows = null;
  try {
    const j = JSON.parse(first.body.toString());
    const list = Object.values(j).find(Array.isArray);
    rows = { returned: list ? list.length : null, total: j.total ?? null };
  } catch {
    rows = { returned: null, total: null, not_json: first.body.toString().slice(0, 200) };
  }
  results.push({ name: q.name, path: q.path, runs: times.length, statuses, p50: pct(times, 50), p95: pct(times, 95), max: times[times.length - 1], ...rows });
}
agent.destroy();
console.log(JSON.stringify({ results }));
