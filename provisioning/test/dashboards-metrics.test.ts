// The Collector health dashboard queries metrics the collector really exports, by labels it really
// sets: a live collector's /metrics after one event of each kind is the reference.

import { randomUUID } from 'node:crypto';
import { KEYS, startCollector, type LiveCollector } from '../../client/test/live-collector';
import { collectorHealth } from '../dashboards-src/collector-health';

/** Labels Prometheus itself adds, or that belong to its ALERTS series. */
const PROMETHEUS_LABELS = new Set(['le', 'job', 'instance', 'alertname', 'alertstate']);

let collector: LiveCollector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector?.dispose();
});

/** metric name → label names seen on it. */
async function exportedMetrics(): Promise<Map<string, Set<string>>> {
  const user = `metrics-${randomUUID().slice(0, 6)}`;
  const events = [
    { type: 'login', outcome: 'success', user },
    ...Array.from({ length: 6 }, () => ({ type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip: '203.0.113.50' })),
  ];
  expect((await collector.api('POST', '/v1/events', KEYS.ingest, events)).status).toBe(202);
  // One refused event, so the rejection counter has a sample.
  expect((await collector.api('POST', '/v1/events', KEYS.ingest, { type: 'login', user: '' })).status).toBe(400);
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  const metrics = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = metrics.get(m[1]) ?? new Set<string>();
    for (const pair of (m[2] ?? '').split(/,(?=[a-zA-Z_])/)) if (pair) labels.add(pair.split('=')[0]);
    metrics.set(m[1], labels);
  }
  return metrics;
}

test('every authwatch_* metric and grouping label in Collector health exists on a live collector', async () => {
  const exported = await exportedMetrics();
  const exprs = collectorHealth().panels!.flatMap((p) => ((p as { targets?: Array<{ expr?: string }> }).targets ?? []).map((t) => t.expr ?? ''));
  expect(exprs.length).toBeGreaterThan(5);
  const problems: string[] = [];
  for (const expr of exprs) {
    const names = [...new Set(expr.match(/authwatch_[a-z_]+/g) ?? [])];
    for (const n of names) if (!exported.has(n)) problems.push(`${expr}: ${n} is not exported`);
    const labelsHere = new Set(names.flatMap((n) => [...(exported.get(n) ?? [])]));
    for (const group of expr.matchAll(/by \(([^)]*)\)/g)) {
      for (const label of group[1].split(',').map((l) => l.trim())) {
        if (!PROMETHEUS_LABELS.has(label) && !labelsHere.has(label)) problems.push(`${expr}: no metric in it has label "${label}"`);
      }
    }
  }
  expect(problems).toEqual([]);
});
