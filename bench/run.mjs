#!/usr/bin/env node
// `npm run bench [-- --quick] [--only P1,P3] [--profile] [--pg] …` (--help lists the options)
// Benchmarks the real collector process against baselines measured in the same run, each in its
// own process, driven by separate load-client processes on loopback. Every figure is a ratio or
// a latency measured side by side, because this machine is shared and absolute numbers drift.
// One file per figure (bench/p*.mjs, bench/authlog-p5.mjs), the shared runner in bench/lib/.
// Prints one line per figure with PASS/MISS, the summary in the order, and writes
// bench/results/latest.json.
import { Bench, USAGE, parseBenchArgs } from './lib/runner.mjs';

// In the order they run: P6 reads the ingest collector P1–P3 used before it stops.
const FIGURES = ['./p1-ingest.mjs', './p2-batched.mjs', './p3-check.mjs', './p6-rss.mjs', './p3-export.mjs', './p4-queries.mjs', './authlog-p5.mjs'];

// process.exit() can cut output written to a pipe: set exitCode and return instead.
async function main() {
  let opts;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const b = new Bench(opts);
  const stop = async () => {
    await b.cleanup();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await b.setup();
    const p6 = [];
    for (const file of FIGURES) {
      const mod = await import(file);
      if (!mod.ids.some((id) => b.want(id))) continue;
      if (file === './p6-rss.mjs') {
        // Measured from every collector as it stops; printed once all of them have run.
        p6.push(mod);
        continue;
      }
      // The ingest collector stops (recording its part of P6) before the bulk-loaded stores need the CPU.
      if (file === './p3-export.mjs') await b.stopMain();
      await mod.run(b);
    }
    await b.stopMain();
    for (const mod of p6) await mod.run(b);
    // P8 (PostgreSQL scale-out) is its own file; it runs only when asked for.
    if (opts.pg || opts.only?.includes('P8')) {
      const { runP8 } = await import('./p8-postgres.mjs');
      for (const f of await runP8({ quick: b.quick, log: (m) => b.log(m) })) b.figure(f);
    }
    b.finish();
  } catch (err) {
    console.error(`bench failed: ${err.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await b.cleanup();
  }
}

await main();
