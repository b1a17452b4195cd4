// P6: memory. The peak resident set (VmHWM, all threads) of every collector the run started:
// the ingest collector after P1–P3, the export and query collectors on the bulk-loaded stores.
import { fmt } from './lib/runner.mjs';

export const ids = ['P6'];

export async function run(b) {
  if (!b.rss.length) {
    // Asked for alone: the ingest collector after its warm-up batch.
    await b.mainCollector();
    await b.stopMain();
  }
  const mb = (mib) => (mib * 2 ** 20) / 1e6;
  const worst = b.rss.reduce((a, x) => (x.peak_mib > a.peak_mib ? x : a));
  b.raw.P6 = b.rss;
  b.figure({
    id: 'P6', name: 'collector peak RSS', value: mb(worst.peak_mib), unit: 'MB', target: '≤ 512 MB', pass: mb(worst.peak_mib) <= 512,
    line: `P6 collector RSS: peak ${fmt(mb(worst.peak_mib), 0)} MB over the run (${b.rss.map((r) => `${r.name} ${fmt(mb(r.peak_mib), 0)} MB`).join(', ')})`,
  });
}
