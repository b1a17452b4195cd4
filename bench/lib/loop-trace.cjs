// Loaded into a collector with `node --require` (bench --trace-loop): records every stretch in which
// the event loop did not turn for more than AUTHWATCH_LOOP_TRACE_MS (default 5) ms, with how much of
// it the thread was on a CPU (/proc/thread-self/schedstat), so a stall caused by this process's own
// work can be told from one caused by the machine's other load. The CPU profile of the same run
// (--cpu-prof) says what ran in each stretch (bench/lib/loop-report.mjs). Written at exit.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { isMainThread } = require('node:worker_threads');
const { PerformanceObserver, performance } = require('node:perf_hooks');
const diagnostics = require('node:diagnostics_channel');

const dir = process.env.AUTHWATCH_LOOP_TRACE;
if (isMainThread && dir) {
  const thresholdMs = Number(process.env.AUTHWATCH_LOOP_TRACE_MS ?? 5);
  // Optional: fewer preemptions by the machine's other load (root only; the event-loop thread only).
  if (process.env.AUTHWATCH_LOOP_TRACE_NICE) {
    try {
      os.setPriority(0, Number(process.env.AUTHWATCH_LOOP_TRACE_NICE));
    } catch {}
  }
  let fd = null;
  try {
    fd = fs.openSync('/proc/thread-self/schedstat', 'r');
  } catch {}
  const buf = Buffer.alloc(128);
  // [ms on a CPU, ms waiting for one] of this thread.
  const sched = () => {
    if (fd === null) return [NaN, NaN];
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const [run, wait] = buf.toString('latin1', 0, n).split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  };
  const micros = () => Number(process.hrtime.bigint() / 1000n);
  // performance.now() (ms) → the monotonic µs clock the CPU profiles use.
  const offsetUs = micros() - performance.now() * 1000;
  const stalls = [];
  const gcs = [];
  // Requests that arrived in the stretch: many means a backlog of small tasks (a starved or
  // bursty client), one or none means one long task.
  let requests = 0;
  diagnostics.subscribe('http.server.request.start', () => requests++);
  let last = micros();
  let [lastRun, lastWait] = sched();
  const tick = () => {
    const now = micros();
    const [run, wait] = sched();
    // The timer asks for 1 ms: anything beyond that the loop was busy elsewhere (or not scheduled).
    const wallMs = (now - last) / 1000 - 1;
    if (wallMs > thresholdMs) stalls.push({ from: last, to: now, wall_ms: wallMs, cpu_ms: run - lastRun, runq_ms: wait - lastWait, requests });
    requests = 0;
    last = now;
    lastRun = run;
    lastWait = wait;
  };
  setInterval(tick, 1).unref();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ at: Math.round(offsetUs + e.startTime * 1000), ms: e.duration, kind: e.detail?.kind ?? e.kind });
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => {
    const heap = process.memoryUsage();
    fs.writeFileSync(join(dir, `loop-${process.pid}.json`), JSON.stringify({ pid: process.pid, threshold_ms: thresholdMs, stalls, gcs, heap }));
  });
}
