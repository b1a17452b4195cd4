#!/usr/bin/env node
// Fixed-rate load client (wrk2-style): sends requests on a fixed schedule whatever the server's
// speed and measures latency from the *intended* send time, so a stall shows up in the tail instead
// of silently lowering the rate (coordinated omission). Prints a one-line JSON summary.
// Options (one JSON argument): url, path, method, headers, bodiesFile (JSON array of bodies,
// used round-robin), rate (req/s), duration (s), connections, warmup (s, not measured).
import http from 'node:http';
import { readFileSync } from 'node:fs';

const o = JSON.parse(process.argv[2]);
const bodies = JSON.parse(readFileSync(o.bodiesFile, 'utf8')).map((b) => Buffer.from(JSON.stringify(b)));
const target = new URL(o.path, o.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections ?? 32 });
const intervalMs = 1000 / o.rate;
const warmupMs = (o.warmup ?? 1) * 1000;
const totalMs = warmupMs + o.duration * 1000;

const corrected = []; // from intended send time
const timeline = []; // [intended time, corrected latency], to tell one stall from general slowness
const service = []; // from actual send time
const statuses = {};
let errors = 0;
let inFlight = 0;
let sent = 0;
const bodyStats = {};

function send(intendedAt, measure) {
  const body = bodies[sent % bodies.length];
  sent++;
  inFlight++;
  const startedAt = performance.now();
  const req = http.request(
    target,
    { method: o.method ?? 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, ...o.headers } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const done = performance.now();
        inFlight--;
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (measure) {
          corrected.push(done - intendedAt);
          timeline.push([intendedAt, done - intendedAt]);
          service.push(done - startedAt);
          if (o.countField) {
            try {
              const v = String(JSON.parse(Buffer.concat(chunks).toString())[o.countField]);
              bodyStats[v] = (bodyStats[v] ?? 0) + 1;
            } catch {
              bodyStats['(not json)'] = (bodyStats['(not json)'] ?? 0) + 1;
            }
          }
        }
      });
    },
  );
  req.on('error', () => {
    inFlight--;
    errors++;
  });
  req.end(body);
}

const t0 = performance.now();
let next = 0; // index of the next scheduled request
await new Promise((resolve) => {
  const tick = () => {
    const now = performance.now() - t0;
    while (next * intervalMs <= now && next * intervalMs < totalMs) {
      const intended = t0 + next * intervalMs;
      send(intended, next * intervalMs >= warmupMs);
      next++;
    }
    if (next * intervalMs >= totalMs) return resolve();
    setTimeout(tick, 1);
  };
  tick();
});
// Let the last requests finish (bounded).
const drainUntil = performance.now() + 10000;
while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
agent.destroy();

function pct(arr, p) {
  if (!arr.length) return null;
  const s = Float64Array.from(arr).sort();
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const measured = corrected.length;
// Stall episodes: runs of consecutive (by send time) requests slower than 10 ms. One 70 ms
// event-loop pause delays ~70 requests at 1,000 req/s, which alone is a 1.4 % tail.
timeline.sort((a, b) => a[0] - b[0]);
const stalls = [];
for (const [t, ms] of timeline) {
  const last = stalls[stalls.length - 1];
  if (ms <= 10) continue;
  if (last && t - last.end <= 20) {
    last.end = t;
    last.worst = Math.max(last.worst, ms);
    last.requests++;
  } else stalls.push({ start: t, end: t, worst: ms, requests: 1 });
}
console.log(
  JSON.stringify({
    rate: o.rate,
    measured,
    achieved_rps: measured / o.duration,
    statuses,
    errors,
    unfinished: inFlight,
    body_field_counts: o.countField ? bodyStats : undefined,
    stalls: { count: stalls.length, requests: stalls.reduce((n, x) => n + x.requests, 0), worst_ms: stalls.reduce((m, x) => Math.max(m, x.worst), 0) },
    latency_ms: {
      p50: pct(corrected, 50),
      p90: pct(corrected, 90),
      p99: pct(corrected, 99),
      max: pct(corrected, 100),
      service_p50: pct(service, 50),
      service_p99: pct(service, 99),
    },
  }),
);
