// P4: the Grafana data source's queries (event lists, free text, sessions, lockouts, time series
// and stats for 24 h / 7 d / 30 d) against bulk-loaded stores of 100k and 1M events (--quick) or
// 1M and 10M (full), one request at a time, p95 per query; the line reports the worst per kind.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { rssMiB } from './lib/proc.mjs';
import { fmt } from './lib/runner.mjs';
import { bulkLoaded, describeLoad } from './lib/bulk.mjs';
import { makeEvent, rng, userName } from './lib/events.mjs';

export const ids = ['P4'];

/** "events 12 ms, events q= 3,500 ms, sessions 4 ms, …": worst p95 of each kind of query. */
function families(results) {
  const kind = (name) => (name === 'events text q' ? 'events q=' : name.split(' ')[0]);
  const worst = new Map();
  for (const q of results) worst.set(kind(q.name), Math.max(worst.get(kind(q.name)) ?? 0, q.p95));
  return [...worst].map(([k, v]) => `${k} ${fmt(v, 1)} ms`).join(', ');
}

/** The data source's queries: events (logs/table), sessions, lockouts, time series, stats. */
export function p4Queries(now) {
  const day = now - 86_400_000;
  const week = now - 7 * 86_400_000;
  const month = now - 30 * 86_400_000;
  return [
    { name: 'events latest 100', path: '/v1/events?limit=100' },
    { name: 'events last 24h', path: `/v1/events?from=${day}&to=${now}&limit=100` },
    { name: 'events user', path: `/v1/events?user=${userName(42)}&limit=100` },
    { name: 'events failures 24h', path: `/v1/events?type=login&outcome=failure&from=${day}&to=${now}&limit=100` },
    { name: 'events reason 7d', path: `/v1/events?reason=invalid_password&from=${week}&to=${now}&limit=100` },
    { name: 'events ip', path: '/v1/events?ip=8.8.4.4&limit=100' },
    { name: 'events text q', path: `/v1/events?q=${userName(4242)}&limit=100` },
    { name: 'sessions active', path: '/v1/sessions?state=active&limit=100' },
    { name: 'sessions user', path: `/v1/sessions?state=all&user=${userName(42)}&limit=100` },
    { name: 'lockouts locked', path: '/v1/lockouts?state=locked' },
    { name: 'lockouts all', path: '/v1/lockouts?state=all' },
    // GET /v1/timeseries and /v1/stats behind the data source's time-series and stat query types,
    // with the API's default interval (range / 100): failures by reason / country / service.
    { name: 'timeseries reason 24h', path: `/v1/timeseries?type=login&outcome=failure&group_by=reason&from=${day}&to=${now}` },
    { name: 'timeseries country 7d', path: `/v1/timeseries?type=login&outcome=failure&group_by=country&from=${week}&to=${now}` },
    { name: 'timeseries service 30d', path: `/v1/timeseries?outcome=failure&group_by=service&from=${month}&to=${now}` },
    { name: 'stats 24h', path: `/v1/stats?from=${day}&to=${now}` },
  ];
}

export async function run(b) {
  b.raw.P4 = {};
  for (const size of b.M.p4sizes) {
    const dbFile = join(b.tmp, `p4-${size}.db`);
    const load = await bulkLoaded(b, dbFile, size);
    b.log(`bulk-loaded ${describeLoad(load)}`);
    const c = await b.startCollector(`collector (P4 ${size})`, dbFile);
    try {
      // Live traffic on top, so sessions and lockouts exist the way the pipeline makes them.
      const rand = rng(5);
      for (let k = 0; k < 10; k++) {
        const batch = Array.from({ length: 1000 }, (_, j) => makeEvent(rand, { id: `p4-live-${k}-${j}`, users: 2000 }));
        await b.post(c.url, '/v1/events', batch);
      }
      const queries = p4Queries(Date.now());
      const r = await b.phase(`P4@${size}`, () =>
        b.runJson('bench/load/queries.mjs', { url: c.url, headers: b.readH, repeat: b.M.p4repeat, warm: b.quick ? 1 : 2, budgetMs: b.quick ? 8_000 : 60_000, queries }, 'query client'),
      );
      b.raw.P4[size] = { load, results: r.results, rss_mib: rssMiB(c.pid) };
      const worst = r.results.reduce((a, x) => (x.p95 > a.p95 ? x : a));
      const bad = r.results.filter((q) => Object.keys(q.statuses).some((s) => s !== '200'));
      b.figure({
        id: `P4@${size}`, size, name: `query p95 with ${size} stored events`, value: worst.p95, unit: 'ms', target: 'p95 ≤ 50 ms for every kind', pass: worst.p95 <= 50 && bad.length === 0,
        detail: r.results,
        line: `P4 queries with ${size.toLocaleString('en-US')} events, worst p95 per kind: ${families(r.results)}; worst ${fmt(worst.p95, 1)} ms (${worst.name})${bad.length ? `; non-200: ${bad.map((q) => `${q.name} ${JSON.stringify(q.statuses)}`).join(', ')}` : ''}`,
      });
      for (const q of r.results) {
        console.log(`     ${q.name.padEnd(22)} p50 ${fmt(q.p50, 1).padStart(7)} ms  p95 ${fmt(q.p95, 1).padStart(7)} ms  rows ${q.returned ?? '-'}${q.total !== null ? ` of ${q.total}` : ''}  ${q.runs} runs ${JSON.stringify(q.statuses)}`);
      }
    } finally {
      await b.stop(c);
      for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
    }
  }
}
