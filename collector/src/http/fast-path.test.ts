// The node:http fast path answers every request exactly as express does: the same collector is
// served twice, once as it listens (fast path in front) and once by its express app alone, and
// the same requests — plain ones and every variant an attacker or a sloppy client sends — must get
// the same status, body and security headers from both.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { KEYS, startServer, type TestServer } from '../../test/helpers/server';

interface Sent {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body in two chunks without a Content-Length. */
  chunked?: boolean;
}

interface Got {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function send(port: number, s: Sent): Promise<Got> {
  return new Promise((resolve, reject) => {
    const body = s.body === undefined ? undefined : Buffer.from(s.body);
    const headers: Record<string, string | number> = { ...s.headers };
    if (body && !s.chunked) headers['content-length'] = body.length;
    const req = request({ host: '127.0.0.1', port, method: s.method ?? 'POST', path: s.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    if (body && s.chunked) {
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half));
      setTimeout(() => req.end(body.subarray(half)), 5);
    } else req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const ingest = { ...json, authorization: `Bearer ${KEYS.ingest}` };
const check = (body: unknown) => JSON.stringify(body);

let s: TestServer;
let expressOnly: Server;
let fastPort: number;
let expressPort: number;

beforeAll(async () => {
  s = await startServer();
  fastPort = Number(new URL(s.url).port);
  expressOnly = createServer(s.collector.app);
  await new Promise<void>((r) => expressOnly.listen(0, '127.0.0.1', r));
  expressPort = (expressOnly.address() as AddressInfo).port;
  // alice is locked (the 6th failure locks by default)
  const failures = Array.from({ length: 6 }, (_, i) => ({ type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'alice', ip: '198.51.100.4', id: `fp-${i}` }));
  expect((await send(fastPort, { path: '/v1/events', headers: ingest, body: JSON.stringify(failures) })).status).toBe(202);
});

afterAll(async () => {
  await new Promise((r) => expressOnly.close(r));
  await s.stop(true);
});

// Over 64 kB an array body is parsed in slices (json-slices.ts): valid, damaged, and with a BOM.
const bigBatch = JSON.stringify(Array.from({ length: 600 }, (_, i) => ({ type: 'login', outcome: 'success', user: `big-${i % 7}`, ip: '192.0.2.44', user_agent: 'x'.repeat(120) })));

const cases: [string, Sent][] = [
  ['events, 600-event batch (sliced parse)', { path: '/v1/events', headers: ingest, body: bigBatch }],
  ['events, 600-event batch with a trailing comma', { path: '/v1/events', headers: ingest, body: bigBatch.replace(/\]$/, ',]') }],
  ['events, 600-event batch with one element broken', { path: '/v1/events', headers: ingest, body: bigBatch.replace('"big-3"', '"big-3"}') }],
  ['events, 600-event batch with a BOM', { path: '/v1/events', headers: ingest, body: '\ufeff' + bigBatch }],
  ['events, 600-event batch with text after it', { path: '/v1/events', headers: ingest, body: bigBatch + ' x' }],
  ['plain check, allowed', { path: '/v1/check', headers: ingest, body: check({ user: 'bob', ip: '203.0.113.9' }) }],
  ['plain check, locked user', { path: '/v1/check', headers: ingest, body: check({ user: 'alice', ip: '203.0.113.9' }) }],
  ['check by address only', { path: '/v1/check', headers: ingest, body: check({ ip: '198.51.100.4' }) }],
  ['check, charset=utf-8', { path: '/v1/check', headers: { ...ingest, 'content-type': 'application/json; charset=UTF-8' }, body: check({ user: 'bob' }) }],
  ['check, unknown field', { path: '/v1/check', headers: ingest, body: check({ user: 'bob', password: 'hunter2' }) }],
  ['check, invalid ip', { path: '/v1/check', headers: ingest, body: check({ user: 'bob', ip: '999.1.1.1' }) }],
  ['check, user is a number', { path: '/v1/check', headers: ingest, body: check({ user: 42 }) }],
  ['check, U+0000 in user', { path: '/v1/check', headers: ingest, body: check({ user: 'bo\u0000b' }) }],
  ['check, neither user nor ip', { path: '/v1/check', headers: ingest, body: check({}) }],
  ['check, empty body', { path: '/v1/check', headers: ingest, body: '' }],
  ['check, whitespace only', { path: '/v1/check', headers: ingest, body: '  \n ' }],
  ['check, byte order mark', { path: '/v1/check', headers: ingest, body: '\ufeff' + check({ user: 'alice' }) }],
  ['check, invalid UTF-8', { path: '/v1/check', headers: ingest, body: Buffer.from([0x7b, 0x22, 0x75, 0x73, 0x65, 0x72, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }],
  ['check, malformed JSON', { path: '/v1/check', headers: ingest, body: '{"user": "bob"' }],
  ['check, a JSON string', { path: '/v1/check', headers: ingest, body: '"bob"' }],
  ['check, a JSON array', { path: '/v1/check', headers: ingest, body: '[1]' }],
  ['check, 70 kB user (over the fast limit)', { path: '/v1/check', headers: ingest, body: check({ user: 'b'.repeat(70_000) }) }],
  ['check, no key', { path: '/v1/check', headers: json, body: check({ user: 'bob' }) }],
  ['check, wrong key', { path: '/v1/check', headers: { ...json, authorization: 'Bearer nope' }, body: check({ user: 'bob' }) }],
  ['check, a read key', { path: '/v1/check', headers: { ...json, authorization: `Bearer ${KEYS.read}` }, body: check({ user: 'bob' }) }],
  ['check, an admin key', { path: '/v1/check', headers: { ...json, authorization: `Bearer ${KEYS.admin}` }, body: check({ user: 'bob' }) }],
  ['check, text/plain', { path: '/v1/check', headers: { ...ingest, 'content-type': 'text/plain' }, body: check({ user: 'bob' }) }],
  ['check, no content type', { path: '/v1/check', headers: { authorization: ingest.authorization }, body: check({ user: 'bob' }) }],
  ['check, latin1 charset', { path: '/v1/check', headers: { ...ingest, 'content-type': 'application/json; charset=latin1' }, body: check({ user: 'bob' }) }],
  ['check, +json type', { path: '/v1/check', headers: { ...ingest, 'content-type': 'application/vnd.api+json' }, body: check({ user: 'bob' }) }],
  ['check, gzip body', { path: '/v1/check', headers: { ...ingest, 'content-encoding': 'gzip' }, body: gzipSync(check({ user: 'bob' })) }],
  ['check, chunked body', { path: '/v1/check', headers: ingest, body: check({ user: 'alice' }), chunked: true }],
  ['check, query string', { path: '/v1/check?x=1', headers: ingest, body: check({ user: 'alice' }) }],
  ['check, trailing slash', { path: '/v1/check/', headers: ingest, body: check({ user: 'alice' }) }],
  ['check, upper case path', { path: '/V1/CHECK', headers: ingest, body: check({ user: 'alice' }) }],
  ['check, GET', { method: 'GET', path: '/v1/check', headers: { authorization: ingest.authorization } }],
  ['check, PUT', { method: 'PUT', path: '/v1/check', headers: ingest, body: check({ user: 'bob' }) }],
  ['events, invalid event', { path: '/v1/events', headers: ingest, body: JSON.stringify({ type: 'login', outcome: 'maybe', user: 'bob' }) }],
  ['events, an event far in the future', { path: '/v1/events', headers: ingest, body: JSON.stringify({ type: 'login', outcome: 'failure', user: 'bob', time: '2999-01-01T00:00:00Z' }) }],
  ['events, malformed JSON', { path: '/v1/events', headers: ingest, body: '[{"type": "login"' }],
  ['events, a read key', { path: '/v1/events', headers: { ...json, authorization: `Bearer ${KEYS.read}` }, body: JSON.stringify({ type: 'login', outcome: 'success', user: 'bob' }) }],
  ['events, 10,001 events', { path: '/v1/events', headers: ingest, body: JSON.stringify(Array.from({ length: 10_001 }, () => ({ type: 'login', outcome: 'success', user: 'bob' }))) }],
  ['events, duplicate of a stored event', { path: '/v1/events', headers: ingest, body: JSON.stringify({ type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'alice', ip: '198.51.100.4', id: 'fp-0' }) }],
];

test.each(cases)('%s: the fast path answers as express does', async (_name, req) => {
  const viaExpress = await send(expressPort, req);
  const viaFast = await send(fastPort, req);
  const view = (g: Got) => ({
    status: g.status,
    // Seconds counted from the clock (how far ahead a future event is, how long a lock has left)
    // depend on when each of the two requests was answered.
    body: g.body.replace(/is \d+ s ahead/g, 'is N s ahead').replace(/"retry_after":\d+/g, '"retry_after":N'),
    type: g.headers['content-type'],
    nosniff: g.headers['x-content-type-options'],
    cache: g.headers['cache-control'],
  });
  expect(view(viaFast)).toEqual(view(viaExpress));
});

test('plain checks and batches are answered without express (no ETag), with the security headers', async () => {
  const batch = JSON.stringify([{ type: 'login', outcome: 'success', user: 'carol', ip: '192.0.2.1' }]);
  const fast = await send(fastPort, { path: '/v1/events', headers: ingest, body: batch });
  const viaExpress = await send(expressPort, { path: '/v1/events', headers: ingest, body: batch });
  expect([fast.status, viaExpress.status]).toEqual([202, 202]);
  expect(JSON.parse(fast.body)).toEqual({ accepted: 1, duplicates: 0 });
  expect(viaExpress.headers.etag).toBeDefined();
  expect(fast.headers.etag).toBeUndefined();
  expect(fast.headers['x-content-type-options']).toBe('nosniff');
  expect(fast.headers['cache-control']).toBe('no-store');
});

test('a reservation through the fast path counts as one attempt', async () => {
  const r = await send(fastPort, { path: '/v1/check', headers: ingest, body: check({ user: 'dave', ip: '192.0.2.7', attempt: true }) });
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body)).toMatchObject({ allowed: true, attempt_id: expect.stringMatching(/^[A-Za-z0-9_-]{16,64}$/) });
});

test('fast-path answers are counted in the HTTP duration histogram under their route', async () => {
  const before = await send(fastPort, { method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${KEYS.read}` } });
  const count = (text: string) => {
    const m = /authwatch_http_request_duration_seconds_count\{[^}]*route="\/v1\/check"[^}]*status="200"[^}]*\} (\d+)/.exec(text) ?? /authwatch_http_request_duration_seconds_count\{[^}]*status="200"[^}]*route="\/v1\/check"[^}]*\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };
  for (let i = 0; i < 3; i++) expect((await send(fastPort, { path: '/v1/check', headers: ingest, body: check({ user: 'erin' }) })).status).toBe(200);
  const after = await send(fastPort, { method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${KEYS.read}` } });
  expect(count(after.body) - count(before.body)).toBe(3);
});

test('a client that goes away mid-body leaves the collector serving', async () => {
  await new Promise<void>((resolve) => {
    const req = request({ host: '127.0.0.1', port: fastPort, method: 'POST', path: '/v1/check', headers: { ...ingest, 'content-length': 100 } });
    req.on('error', () => resolve());
    req.write('{"user":');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 20);
  });
  const r = await send(fastPort, { path: '/v1/check', headers: ingest, body: check({ user: 'alice' }) });
  expect(JSON.parse(r.body)).toMatchObject({ allowed: false, reason: 'user_locked' });
});
