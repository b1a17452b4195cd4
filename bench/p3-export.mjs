// P3-export: /v1/check at 1,000 req/s while CSV exports of a bulk-loaded store stream out (one
// after another, for the whole measurement): an export must not stall the thread that answers
// checks. The store: the 1M-event P4 store (shared bulk-load cache).
import { join } from 'node:path';
import { settle } from './lib/proc.mjs';
import { fmt } from './lib/runner.mjs';
import { bulkLoaded, describeLoad } from './lib/bulk.mjs';
import { checkDetail, checkLoad } from './p3-check.mjs';

export const ids = ['P3-export'];

export async function run(b) {
  const size = b.M.exportSize;
  const dbFile = join(b.tmp, `export-${size}.db`);
  const load = await bulkLoaded(b, dbFile, size);
  b.log(`bulk-loaded ${describeLoad(load)}`);
  const c = await b.startCollector(`collector (P3-export, ${size})`, dbFile);
  try {
    const { probe, ...opts } = await checkLoad(b, c, 'export');
    const total = (await (await fetch(`${c.url}/v1/events?limit=1`, { headers: b.readH })).json()).total;
    await settle(c.pid, 10000);
    const [r, ex] = await b.phase('P3-export', () =>
      Promise.all([
        b.paced({ ...opts, url: c.url, headers: b.ingestH }),
        b.runJson('bench/load/export.mjs', { url: `${c.url}/v1/events.csv`, headers: b.readH, duration: b.M.p3s + 1 }, 'export client'),
      ]),
    );
    const rows = ex.whole_export_rows ?? total;
    b.raw['P3-export'] = { check: r, export: ex, load, lock_probe: probe };
    const ok = r.latency_ms.p99 !== null && r.latency_ms.p99 <= 5 && r.errors === 0 && ex.status === 200;
    b.figure({
      id: 'P3-export', name: '/v1/check latency at 1,000 req/s during a CSV export', value: r.latency_ms.p99, unit: 'ms', target: 'p99 ≤ 5 ms', pass: ok, detail: { check: r, export: ex },
      line: `P3-export /v1/check during a CSV export of ${rows.toLocaleString('en-US')} rows: p99 ${fmt(r.latency_ms.p99, 3)} ms (${checkDetail(r)}; export ${ex.status}, ${fmt(ex.rows_per_s)} rows/s, ${fmt(ex.rows)} rows in ${fmt(ex.seconds, 1)} s, ${ex.finished} finished)`,
    });
  } finally {
    await b.stop(c);
  }
}
