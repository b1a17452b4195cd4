// Webhook sink against a real HTTP receiver on 127.0.0.1:0: signature verifies, retries after a
// 500, gives up after N attempts (logged and counted), rules, throttling and the bounded queue.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../log';
import { blankEvent, type StoredEvent } from '../schema/stored-event';
import { createNotificationSinks, parseNotificationsConfig } from './notifications';

/** The sinks as the collector builds them from these variables. */
const notificationSinks = (env: NodeJS.ProcessEnv) => createNotificationSinks(parseNotificationsConfig(env));
import { Throttle } from './notify-rules';
import { createWebhookSink, type WebhookSink } from './webhook';

const SECRET = 'whsec-test-0123456789';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
}

let server: Server;
let url: string;
let received: Received[];
/** Status codes to answer with, in order; 200 once exhausted. */
let script: number[];

beforeEach(async () => {
  received = [];
  script = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = script.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/authwatch`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function logCapture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  return { lines, log: createLogger(stream) };
}

const T = Date.UTC(2026, 2, 2, 10, 0, 0);
function detection(kind: string, user: string, extra: Partial<StoredEvent> = {}): StoredEvent {
  return blankEvent({
    id: `det-${kind}-${user}-${Math.random()}`,
    time: T,
    type: 'detection',
    reason: kind,
    user,
    email: `${user}@example.com`,
    ip: '8.8.8.8',
    country: 'US',
    asn: 15169,
    isp: 'Google LLC',
    browser: 'Firefox',
    os: 'Linux',
    device_type: 'desktop',
    session_id: 'a'.repeat(64),
    attributes: { fingerprint: 'Firefox|Linux|desktop', known_devices: 1 },
    ...extra,
  });
}

/** What a receiver does: recompute the HMAC over the raw body and compare in constant time. */
function verify(r: Received, secret: string): boolean {
  const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(r.raw).digest('hex'));
  const got = Buffer.from(String(r.headers['x-authwatch-signature'] ?? ''));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

function sink(overrides: Partial<Parameters<typeof createWebhookSink>[0]> = {}) {
  const { lines, log } = logCapture();
  const s = createWebhookSink({
    url,
    secret: SECRET,
    notifyOn: new Set(['new_device', 'lockout']),
    throttle: new Throttle(600_000),
    maxAttempts: 4,
    retryBaseMs: 10,
    retryMaxMs: 100,
    timeoutMs: 5000,
    queueSize: 100,
    concurrency: 2,
    log,
    ...overrides,
  });
  return { s, lines };
}

test('configured from the environment: signed JSON a receiver can verify, only for the chosen kinds', async () => {
  const [s] = notificationSinks({
    AUTHWATCH_WEBHOOK_URL: url,
    AUTHWATCH_WEBHOOK_SECRET: SECRET,
    AUTHWATCH_NOTIFY_ON: 'new_device,lockout,login_failure',
  }) as WebhookSink[];
  const success = { ...blankEvent({ id: 'l1', time: T, type: 'login', user: 'bob', outcome: 'success' }) };
  const failure = { ...blankEvent({ id: 'l2', time: T, type: 'login', user: 'bob', outcome: 'failure', reason: 'invalid_password', ip: '8.8.8.8' }) };
  s.write([detection('new_device', 'alice'), success, failure, detection('password_spray', 'carol')]);
  await s.idle();
  await s.close();

  expect(received).toHaveLength(2);
  const [first, second] = received;
  expect(verify(first, SECRET)).toBe(true);
  expect(verify(second, SECRET)).toBe(true);
  expect(verify(first, 'wrong-secret')).toBe(false);
  // A tampered body no longer verifies.
  expect(verify({ ...first, raw: first.raw.replace('alice', 'mallory') }, SECRET)).toBe(false);

  const body = JSON.parse(first.raw);
  expect(first.headers['content-type']).toBe('application/json');
  expect(first.headers['x-authwatch-delivery']).toBe(body.delivery_id);
  expect(Number(first.headers['x-authwatch-timestamp'])).toBe(body.timestamp);
  expect(Math.abs(body.timestamp - Date.now() / 1000)).toBeLessThan(300); // what a receiver's replay window checks
  expect(body.text).toBe('New device for alice using Firefox on Linux from 8.8.8.8 (US)');
  expect(body.event).toMatchObject({ kind: 'new_device', user: 'alice', ip: '8.8.8.8', country: 'US', asn: 15169, attributes: { known_devices: 1 } });
  expect(first.raw).not.toContain('session_id');
  expect(first.raw).not.toContain('a'.repeat(64));
  expect(JSON.parse(second.raw).event).toMatchObject({ kind: 'login_failure', reason: 'invalid_password' });
});

test('retries after a 500 with the same delivery id, then succeeds', async () => {
  script = [500, 503];
  const { s } = sink();
  s.write([detection('new_device', 'alice')]);
  await s.idle();
  expect(received.map((r) => r.headers['x-authwatch-attempt'])).toEqual(['1', '2', '3']);
  expect(new Set(received.map((r) => r.headers['x-authwatch-delivery'])).size).toBe(1);
  expect(received.every((r) => verify(r, SECRET))).toBe(true);
  expect(s.stats()).toMatchObject({ delivered: 1, retried: 2, failed: 0 });
  await s.close();
});

test('gives up after N attempts, logs it and counts it', async () => {
  script = Array(10).fill(500);
  const { s, lines } = sink({ maxAttempts: 3 });
  s.write([detection('lockout', 'bob', { type: 'lockout', reason: 'too_many_failures' })]);
  await s.idle();
  expect(received).toHaveLength(3);
  expect(s.stats()).toMatchObject({ delivered: 0, retried: 2, failed: 1 });
  expect(lines.join('')).toMatch(/webhook delivery given up.*"attempts":3.*HTTP 500/);
  await s.close();
});

test('a 400 is final (no retry); an unreachable receiver is retried then given up', async () => {
  script = [400];
  const { s } = sink();
  s.write([detection('new_device', 'alice')]);
  await s.idle();
  expect(received).toHaveLength(1);
  expect(s.stats()).toMatchObject({ failed: 1, retried: 0 });
  await s.close();

  const closedPort = createServer();
  await new Promise<void>((r) => closedPort.listen(0, '127.0.0.1', r));
  const deadUrl = `http://127.0.0.1:${(closedPort.address() as AddressInfo).port}/`;
  await new Promise((r) => closedPort.close(r));
  const dead = sink({ url: deadUrl, maxAttempts: 2 });
  dead.s.write([detection('new_device', 'alice')]);
  await dead.s.idle();
  expect(dead.s.stats()).toMatchObject({ delivered: 0, retried: 1, failed: 1 });
  expect(dead.lines.join('')).toContain('webhook delivery given up');
  await dead.s.close();
});

test('throttled per user and kind; the queue is bounded and says what it dropped', async () => {
  const { s } = sink();
  s.write([detection('new_device', 'alice'), detection('new_device', 'alice'), detection('new_device', 'bob'), detection('lockout', 'alice', { type: 'lockout' })]);
  await s.idle();
  expect(received.map((r) => JSON.parse(r.raw).event.user + ':' + JSON.parse(r.raw).event.kind).sort()).toEqual([
    'alice:lockout',
    'alice:new_device',
    'bob:new_device',
  ]);
  expect(s.stats()).toMatchObject({ delivered: 3, throttled: 1 });
  await s.close();

  received = [];
  const small = sink({ queueSize: 2, concurrency: 1 });
  small.s.write(['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => detection('new_device', u)));
  await small.s.idle();
  expect(received).toHaveLength(2);
  expect(small.s.stats()).toMatchObject({ delivered: 2, dropped: 3 });
  await small.s.close();
});

test('shutdown does not hang on a receiver that never answers', async () => {
  const silent = createServer(() => {
    /* never responds */
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const { s, lines } = sink({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, timeoutMs: 200, maxAttempts: 5, concurrency: 1 });
    s.write([detection('new_device', 'alice'), detection('new_device', 'bob')]);
    await s.close(); // resolves although the receiver never answers
    expect(s.stats()).toMatchObject({ delivered: 0, queued: 0 });
    expect(s.stats().failed + s.stats().dropped).toBe(2);
    expect(lines.join('')).toMatch(/webhook delivery given up/);
  } finally {
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
  }
});

test('bad configuration is a clear startup error', () => {
  expect(() => notificationSinks({ AUTHWATCH_WEBHOOK_URL: 'not a url' })).toThrow(/AUTHWATCH_WEBHOOK_URL/);
  expect(() => notificationSinks({ AUTHWATCH_WEBHOOK_URL: 'ftp://x/' })).toThrow(/http/);
  expect(() => notificationSinks({ AUTHWATCH_WEBHOOK_URL: url, AUTHWATCH_NOTIFY_ON: 'Login Success' })).toThrow(/snake_case/);
  expect(() => notificationSinks({ AUTHWATCH_SMTP_URL: 'smtp://127.0.0.1:25' })).toThrow(/AUTHWATCH_NOTIFY_EMAIL_FROM/);
  expect(notificationSinks({})).toEqual([]);
});
