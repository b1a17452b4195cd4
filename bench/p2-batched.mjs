// P2 / P2b: 1,000-event batches through the full pipeline (validate, enrich, sessions, lockout,
// detections, rollups, search terms, durable commit) vs bare better-sqlite3 in the same rounds:
//  - P2: the same rows into a copy of the collector's own file (its columns and indexes), with
//    its write-connection pragmas, 1,000 rows per transaction;
//  - P2b: a minimal row (integer key + short text) with the same pragmas: the engine's own limit.
import { join } from 'node:path';
import { fmt } from './lib/runner.mjs';

export const ids = ['P2', 'P2b'];

export async function run(b) {
  const collector = await b.mainCollector();
  const M = b.M;
  const rounds = [];
  for (let i = 0; i < M.rounds; i++) {
    const base = { templateDb: b.templateDb, bodyFile: b.files.plainBatch, seconds: M.p2sqlite, pragmas: b.pragmas.settings };
    const sqlite = await b.runJson('bench/baselines/sqlite-inserts.mjs', { ...base, dbFile: join(b.tmp, `baseline-inserts-${i}.db`) }, 'sqlite-inserts');
    const minimal = await b.runJson('bench/baselines/sqlite-inserts.mjs', { ...base, minimal: true, dbFile: join(b.tmp, `baseline-minimal-${i}.db`) }, 'sqlite-minimal');
    const co = await b.phase('P2', () =>
      b.cannon({
        url: `${collector.url}/v1/events`, method: 'POST', bodyFile: b.files.batch, uniqueIds: true,
        headers: { 'content-type': 'application/json', ...b.ingestH },
        connections: M.p2conn, duration: M.p2s, timeout: 30,
      }),
    );
    rounds.push({ sqlite, minimal, collector: co });
  }
  const eps = rounds.reduce((n, r) => n + r.collector.ok2xx * 1000, 0) / rounds.reduce((n, r) => n + r.collector.duration_s, 0);
  const rate = (k) => rounds.reduce((n, r) => n + r[k].rows, 0) / rounds.reduce((n, r) => n + r[k].seconds, 0);
  const base = rate('sqlite');
  const minimal = rate('minimal');
  const perRound = (k) => rounds.map((r) => fmt((r.collector.ok2xx * 1000) / r.collector.duration_s / r[k].rows_per_s));
  const statuses = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.collector.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const p99 = Math.max(...rounds.map((r) => r.collector.latency_ms.p99));
  const ok = Object.keys(statuses).every((s) => s === '202');
  b.raw.P2 = { rounds };
  b.figure({
    id: 'P2', name: 'batched ingest vs bare SQLite inserts of the same rows', value: eps / base, unit: 'x', target: '≥ 0.3', pass: eps / base >= 0.3 && ok,
    detail: { collector_events_per_s: eps, sqlite_rows_per_s: base, per_round: perRound('sqlite'), collector_p99_ms: p99, statuses },
    line: `P2 batched ingest: ${fmt(eps / base)}x of bare SQLite inserts (${fmt(eps)} vs ${fmt(base)} events/s, same rows, schema and pragmas; rounds ${perRound('sqlite').join(' / ')}; 1,000/request, p99 ${fmt(p99)} ms; statuses ${JSON.stringify(statuses)})`,
  });
  b.figure({
    id: 'P2b', name: 'batched ingest vs bare SQLite inserts of a minimal row', value: eps / minimal, unit: 'x', target: '≥ 0.3', pass: eps / minimal >= 0.3 && ok,
    detail: { collector_events_per_s: eps, minimal_rows_per_s: minimal, per_round: perRound('minimal') },
    line: `P2b batched ingest: ${fmt(eps / minimal)}x of bare minimal-row SQLite inserts (${fmt(eps)} vs ${fmt(minimal)} rows/s; rounds ${perRound('minimal').join(' / ')})`,
  });
}
