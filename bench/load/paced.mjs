#!/usr/bin/env node
// Fixed-rate load client (wrk2-style): sends requests on a fixed schedule whatever the server's
// speed and measures latency from the *intended* send time, so a stall shows up in the tail instead
// of silently lowering the rate (coordinated omission). Prints a one-line JSON summary.
// Options (one JSON argument): url, path, method, headers, bodiesFile (JSON array of bodies,
// used round-robin), rate (req/s), duration (s), connections, warmup (s, not measured).
//
// Raw keep-alive sockets with pre-built requests rather than node:http's client: that client's
// per-request objects (and their garbage collection) put this client's own p99 above 4 ms at
// 1,000 req/s, above what it was meant to measure. Here a request allocates almost nothing.
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';

const o = JSON.parse(process.argv[2]);
const target = new URL(o.path, o.url);
const method = o.method ?? 'POST';
const extra = Object.entries({ 'content-type': 'application/json', ...o.headers })
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join('');
const requests = JSON.parse(readFileSync(o.bodiesFile, 'utf8')).map((b) => {
  const body = Buffer.from(JSON.stringify(b));
  const head = `${method} ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n${extra}content-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
});
const connections = o.connections ?? 32;
const intervalMs = 1000 / o.rate;
const warmupMs = (o.warmup ?? 1) * 1000;
const totalMs = warmupMs + o.duration * 1000;
const capacity = Math.ceil((o.duration + 1) * o.rate) + 16;

// Preallocated: no per-request arrays or objects for the collector to clean up mid-run.
const intendedAt = new Float64Array(capacity); // measured requests, in the order answered
const corrected = new Float64Array(capacity); // from intended send time
const service = new Float64Array(capacity); // from actual send time
let measured = 0;
const statuses = {};
const bodyStats = {};
let errors = 0;
let inFlight = 0;
let sent = 0;

/** One keep-alive connection: one request at a time, answers parsed by content-length or chunks. */
class Conn {
  constructor() {
    this.busy = false;
    this.buf = null;
    this.open();
  }
  open() {
    const sock = net.connect({ host: target.hostname, port: Number(target.port || 80), noDelay: true });
    this.sock = sock;
    this.ready = false;
    this.idleSince = performance.now();
    // Events of a socket this connection has already replaced are ignored.
    sock.on('connect', () => {
      if (this.sock !== sock) return;
      this.ready = true;
      pump();
    });
    sock.on('data', (c) => this.sock === sock && this.onData(c));
    const lost = () => {
      if (this.sock !== sock) return;
      this.sock = null;
      this.ready = false;
      this.buf = null;
      if (this.busy) {
        this.busy = false;
        inFlight--;
        errors++;
      }
      if (!finished) setTimeout(() => this.open(), 10);
    };
    sock.on('error', lost);
    sock.on('close', lost);
  }
  /**
   * Idle close to the server's announced keep-alive timeout (Keep-Alive: timeout=N): the server
   * may be closing it right now, and a request written then is lost. Retired first, as HTTP
   * clients do (undici keeps a 1 s margin), so such a race is not counted as the server's error.
   */
  stale() {
    if (this.keepAliveMs === undefined) return false;
    return performance.now() - this.idleSince > Math.max(this.keepAliveMs - 1000, this.keepAliveMs / 2);
  }
  /** A fresh socket instead of this one (whose events are ignored from now on). */
  recycle() {
    const old = this.sock;
    this.open();
    old?.destroy();
  }
  send(req, at, measure) {
    this.busy = true;
    this.at = at;
    this.measure = measure;
    this.startedAt = performance.now();
    this.sock.write(req);
  }
  onData(chunk) {
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let body;
    let rest;
    if (m) {
      const len = Number(m[1]);
      if (this.buf.length < end + 4 + len) return;
      body = this.buf.subarray(end + 4, end + 4 + len);
      rest = end + 4 + len;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts = [];
      let p = end + 4;
      for (;;) {
        const eol = this.buf.indexOf('\r\n', p);
        if (eol < 0) return;
        const size = parseInt(this.buf.toString('latin1', p, eol), 16);
        if (this.buf.length < eol + 2 + size + 2) return;
        if (size === 0) {
          rest = eol + 4;
          break;
        }
        parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
        p = eol + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      body = Buffer.alloc(0);
      rest = end + 4;
    }
    this.buf = rest < this.buf.length ? this.buf.subarray(rest) : null;
    const keepAlive = /\r\nkeep-alive:\s*timeout=(\d+)/i.exec(head);
    if (keepAlive) this.keepAliveMs = Number(keepAlive[1]) * 1000;
    this.done(status, body, /\r\nconnection:\s*close/i.test(head));
  }
  done(status, body, close) {
    const now = performance.now();
    this.busy = false;
    this.idleSince = now;
    inFlight--;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (this.measure) {
      intendedAt[measured] = this.at;
      corrected[measured] = now - this.at;
      service[measured] = now - this.startedAt;
      measured++;
      if (o.countField) {
        let v;
        try {
          v = String(JSON.parse(body.toString())[o.countField]);
        } catch {
          v = '(not json)';
        }
        bodyStats[v] = (bodyStats[v] ?? 0) + 1;
      }
    }
    if (close) {
      // Not ready from now: a pump() before the socket's close event must not write to it.
      this.ready = false;
      this.sock.destroy();
    } else pump();
  }
}

let finished = false;
const conns = Array.from({ length: connections }, () => new Conn());
// Requests due but not yet sent (every connection busy): their schedule indices, in order.
const due = [];

function pump() {
  for (const c of conns) {
    if (!due.length) return;
    if (c.busy || !c.ready) continue;
    if (c.stale()) {
      c.recycle();
      continue;
    }
    const i = due.shift();
    const req = requests[sent % requests.length];
    sent++;
    inFlight++;
    // Measured or not by schedule index: t0 + i * interval - t0 can round below the warm-up's end.
    c.send(req, t0 + i * intervalMs, i * intervalMs >= warmupMs);
  }
}

// Wait for the connections before the clock starts (a connect is not a request); a server that
// takes none within 5 s is measured anyway: its requests end up unfinished, not in a hang.
await new Promise((resolve) => {
  const giveUp = performance.now() + 5_000;
  const check = () => (conns.every((c) => c.ready) || performance.now() > giveUp ? resolve() : setTimeout(check, 5));
  check();
});
const t0 = performance.now();
let next = 0; // index of the next scheduled request
// A metronome thread wakes this one at each send time: setTimeout's 1 ms granularity alone made
// sends up to a millisecond late, which counted as latency of the server under test.
const metronome = new Worker(
  `const { parentPort, workerData: w } = require('node:worker_threads');
   const gate = new Int32Array(new SharedArrayBuffer(4));
   const start = w.origin - performance.timeOrigin;
   for (let i = 0; i * w.intervalMs < w.totalMs; i++) {
     const wait = start + i * w.intervalMs - performance.now();
     if (wait > 0) Atomics.wait(gate, 0, 0, wait);
     parentPort.postMessage(0);
   }
   parentPort.postMessage(1);`,
  { eval: true, workerData: { origin: performance.timeOrigin + t0, intervalMs, totalMs } },
);
await new Promise((resolve) => {
  metronome.on('message', (last) => {
    const now = performance.now() - t0;
    while (next * intervalMs <= now && next * intervalMs < totalMs) {
      due.push(next);
      next++;
    }
    pump();
    if (last) resolve();
  });
});
await metronome.terminate();
// Let the last requests finish (bounded).
const drainUntil = performance.now() + 10000;
while ((inFlight > 0 || due.length) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
finished = true;
for (const c of conns) c.sock?.destroy();

function pct(arr, p) {
  if (!arr.length) return null;
  const s = Float64Array.from(arr).sort();
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const cor = corrected.subarray(0, measured);
// Stall episodes: runs of consecutive (by send time) requests slower than 10 ms. One 70 ms
// event-loop pause delays ~70 requests at 1,000 req/s, which alone is a 1.4 % tail.
const order = Array.from({ length: measured }, (_, i) => i).sort((a, b) => intendedAt[a] - intendedAt[b]);
const stalls = [];
for (const i of order) {
  const t = intendedAt[i];
  const ms = corrected[i];
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
    unfinished: inFlight + due.length,
    body_field_counts: o.countField ? bodyStats : undefined,
    stalls: { count: stalls.length, requests: stalls.reduce((n, x) => n + x.requests, 0), worst_ms: stalls.reduce((m, x) => Math.max(m, x.worst), 0) },
    latency_ms: {
      p50: pct(cor, 50),
      p90: pct(cor, 90),
      p99: pct(cor, 99),
      max: pct(cor, 100),
      service_p50: pct(service.subarray(0, measured), 50),
      service_p99: pct(service.subarray(0, measured), 99),
    },
  }),
);
process.exit(0);
