// The fixed-rate client (paced.mjs) decides P3, P3-load, P3-export and P8's check figures. Against
// real node:http servers whose behaviour is known, it must count every request, measure a delay
// the server adds, show a server stall in the tail for every request scheduled during it (no
// coordinated omission), read chunked answers and connections the server closes, and never write
// to a connection idle near the server's keep-alive timeout (a race the server would be blamed for).
// Latency assertions here are lower bounds only: a slow machine can only raise them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Summary {
  measured: number;
  statuses: Record<string, number>;
  errors: number;
  unfinished: number;
  body_field_counts?: Record<string, number>;
  stalls: { count: number; requests: number; worst_ms: number };
  latency_ms: { p50: number; p99: number; max: number; service_p50: number };
}

const dir = mkdtempSync(join(tmpdir(), 'authwatch-paced-'));
const bodiesFile = join(dir, 'bodies.json');
writeFileSync(bodiesFile, JSON.stringify([{ user: 'locked' }, { user: 'a' }, { user: 'b' }, { user: 'c' }]));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(handler: http.RequestListener, keepAliveMs = 60_000): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = keepAliveMs;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

/** Reads the body, then answers {"allowed": false} for user "locked", else true. */
function answer(req: http.IncomingMessage, reply: (body: string) => void): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => reply(JSON.stringify({ allowed: (JSON.parse(body) as { user: string }).user !== 'locked' })));
}

function paced(url: string, o: { rate: number; duration: number; warmup: number }): Promise<Summary> {
  const opts = { url, path: '/v1/check', headers: { authorization: 'Bearer x' }, bodiesFile, connections: 32, countField: 'allowed', ...o };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(__dirname, 'paced.mjs'), JSON.stringify(opts)], { timeout: 30_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as Summary);
    });
  });
}

test('every scheduled request is sent, answered and counted; the warm-up is not measured', async () => {
  let seen = 0;
  let auth = '';
  const s = await serve((req, res) => {
    seen++;
    auth = req.headers.authorization ?? '';
    answer(req, (b) => res.writeHead(200, { 'content-type': 'application/json' }).end(b));
  });
  try {
    const r = await paced(s.url, { rate: 500, duration: 2, warmup: 0.5 });
    expect(r.measured).toBe(1000);
    expect(seen).toBe(1250);
    expect(auth).toBe('Bearer x');
    expect(r.statuses).toEqual({ '200': 1250 });
    expect(r.errors).toBe(0);
    expect(r.unfinished).toBe(0);
    // Bodies round-robin: one in four is the locked user.
    expect(r.body_field_counts).toEqual({ false: 250, true: 750 });
  } finally {
    await s.close();
  }
});

test('a delay the server adds is measured', async () => {
  const s = await serve((req, res) => answer(req, (b) => setTimeout(() => res.writeHead(200, { 'content-length': Buffer.byteLength(b) }).end(b), 20)));
  try {
    const r = await paced(s.url, { rate: 200, duration: 1, warmup: 0.2 });
    expect(r.measured).toBe(200);
    expect(r.latency_ms.p50).toBeGreaterThanOrEqual(20);
    expect(r.latency_ms.service_p50).toBeGreaterThanOrEqual(20);
  } finally {
    await s.close();
  }
});

test('a 300 ms server stall delays every request scheduled during it, not only those in flight', async () => {
  let first = 0;
  let stalled = false;
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const s = await serve((req, res) => {
    first ||= Date.now();
    // Once, 1 s after the first request (0.5 s into the measured part): block this event loop.
    if (!stalled && Date.now() - first >= 1000) {
      stalled = true;
      Atomics.wait(gate, 0, 0, 300);
    }
    answer(req, (b) => res.writeHead(200, { 'content-type': 'application/json' }).end(b));
  });
  try {
    const r = await paced(s.url, { rate: 500, duration: 2, warmup: 0.5 });
    expect(stalled).toBe(true);
    expect(r.statuses).toEqual({ '200': 1250 });
    expect(r.stalls.count).toBeGreaterThanOrEqual(1);
    expect(r.stalls.worst_ms).toBeGreaterThanOrEqual(250);
    // ~150 requests were due during the stall, 32 of them at most on a connection: a client that
    // timed from the actual send (coordinated omission) would count only those as slow.
    expect(r.stalls.requests).toBeGreaterThanOrEqual(100);
    expect(r.latency_ms.p99).toBeGreaterThanOrEqual(100);
  } finally {
    await s.close();
  }
});

test('chunked answers are read and connections the server closes are reopened', async () => {
  let n = 0;
  const s = await serve((req, res) => {
    const close = ++n % 10 === 0;
    // No content-length: node:http sends the body chunked.
    answer(req, (b) => {
      res.writeHead(200, close ? { connection: 'close' } : {});
      res.write(b.slice(0, 5));
      res.end(b.slice(5));
    });
  });
  try {
    const r = await paced(s.url, { rate: 300, duration: 1, warmup: 0.2 });
    expect(r.errors).toBe(0);
    expect(r.statuses).toEqual({ '200': 360 });
    expect(r.body_field_counts).toEqual({ false: 75, true: 225 });
  } finally {
    await s.close();
  }
});

test('a server that takes no connection: the client ends and reports the requests unfinished', async () => {
  const s = await serve(() => undefined);
  const url = s.url;
  await s.close();
  const r = await paced(url, { rate: 100, duration: 1, warmup: 0.2 });
  expect(r.measured).toBe(0);
  expect(r.unfinished).toBe(120);
  expect(r.statuses).toEqual({});
}, 60_000);

test('a connection idle near the server’s keep-alive timeout is replaced, not written to as the server drops it', async () => {
  // The server announces a 2 s keep-alive (Keep-Alive: timeout=2) and drops, unanswered, a
  // request that arrives on a connection idle for more than 1.2 s: what a request written just as
  // the server closes an idle connection meets. For 100 ms of every 1.5 s it answers 100 ms late,
  // so requests spill onto connections the client has not used since the last such moment.
  const idle = new WeakMap<object, number>();
  const s = await serve((req, res) => {
    const since = idle.get(req.socket);
    if (since !== undefined && performance.now() - since > 1200) {
      req.socket.destroy();
      return;
    }
    const slow = performance.now() % 1500 < 100;
    answer(req, (b) =>
      setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(b);
          idle.set(req.socket, performance.now());
        },
        slow ? 100 : 0,
      ),
    );
  }, 2000);
  try {
    const r = await paced(s.url, { rate: 200, duration: 6, warmup: 0.2 });
    expect(r.errors).toBe(0);
    expect(r.statuses).toEqual({ '200': 1240 });
  } finally {
    await s.close();
  }
}, 30_000);
