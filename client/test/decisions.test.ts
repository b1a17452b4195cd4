// check() and isSessionEnded() against a live collector — answering, and frozen (SIGSTOP), which is
// what a hung collector looks like to the login path.

import express from 'express';
import { AuthwatchClient } from '../src';
import { listen, post } from './http-app';
import { KEYS, startCollector, type LiveCollector } from './live-collector';

let collector: LiveCollector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  if (collector?.child.pid) process.kill(collector.child.pid, 'SIGCONT');
  await collector?.dispose();
});

/** Runs `work` while the collector process is frozen: connections open, nothing answers. */
async function whileFrozen<T>(work: () => Promise<T>): Promise<T> {
  const pid = collector.child.pid!;
  process.kill(pid, 'SIGSTOP');
  try {
    return await work();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

test('check() says allowed for a user with no failures, and not allowed once locked', async () => {
  const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, flushIntervalMs: 10 });
  expect(await client.check('victor', '203.0.113.9')).toEqual({ allowed: true });
  for (let i = 0; i < 6; i++) client.report({ type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'victor', ip: '203.0.113.9' });
  expect(await client.flush()).toBe(true);
  const locked = await client.check('victor', '203.0.113.9');
  expect(locked).toMatchObject({ allowed: false, reason: 'user_locked' });
  expect(locked.retryAfter).toBeGreaterThan(0);
  await client.close();
});

test('an address the collector would refuse is left out: a locked user stays locked', async () => {
  const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, flushIntervalMs: 10 });
  for (let i = 0; i < 6; i++) client.report({ type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'bob' });
  expect(await client.flush()).toBe(true);
  for (const ip of ['not-an-ip', '999.1.1.1', '', '1.2.3.4\n']) {
    expect(await client.check('bob', ip)).toMatchObject({ allowed: false, reason: 'user_locked' });
    expect(await client.beginAttempt('bob', ip)).toMatchObject({ allowed: false, reason: 'user_locked' });
  }
  await client.close();
});

test('a 4xx from the collector is never an "allowed" (wrong key, bad input)', async () => {
  const errors: string[] = [];
  const wrongKey = new AuthwatchClient({ url: collector.url, ingestKey: 'not-a-key', onError: (e) => errors.push(e.message) });
  expect(await wrongKey.check('anyone', '203.0.113.1')).toEqual({ allowed: false, reason: 'check_refused', retryAfter: null });
  expect(await wrongKey.beginAttempt('anyone')).toMatchObject({ allowed: false, reason: 'check_refused' });
  expect(errors.join('\n')).toMatch(/HTTP 401/);
  const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest });
  // A user name the collector refuses (over 256 characters).
  expect(await client.check('x'.repeat(300))).toMatchObject({ allowed: false, reason: 'check_refused' });
  await Promise.all([wrongKey.close(), client.close()]);
});

test('check() fails open when the collector does not answer in time (default)', async () => {
  const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, timeoutMs: 250 });
  const started = Date.now();
  const result = await whileFrozen(() => client.check('wendy', '198.51.100.4'));
  console.log(`check() against a frozen collector answered after ${Date.now() - started} ms (timeoutMs 250)`);
  expect(result).toEqual({ allowed: true, reason: 'check_unavailable', degraded: true });
  await client.close(100);
});

test('an attempt the client stopped waiting for is settled by its outcome: no orphan that later counts as a failure', async () => {
  const policy = async (p: Record<string, unknown>) =>
    expect((await fetch(`${collector.url}/v1/policy`, { method: 'PUT', headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' }, body: JSON.stringify(p) })).status).toBe(200);
  await policy({ attempt_ttl_seconds: 1 });
  try {
    const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, timeoutMs: 250 });
    const user = 'slow-answer-user';
    // The collector is frozen: the check times out (fail open), but its request is already on the
    // wire and the collector makes the reservation once it runs again.
    const attempt = await whileFrozen(() => client.beginAttempt(user, '198.51.100.77'));
    expect(attempt).toMatchObject({ allowed: true, degraded: true, attemptId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    // The login goes on and succeeds; its outcome carries the id the client chose.
    expect(await client.reportNow({ type: 'login', outcome: 'success', user, ip: '198.51.100.77', attempt_id: attempt.attemptId })).toBe(true);
    // Past the TTL, nothing expired into a failure: the user has a clean slate.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await client.beginAttempt(user, '198.51.100.77')).toMatchObject({ allowed: true });
    const expired = await collector.api<{ total: number }>('GET', `/v1/events?user=${user}&reason=attempt_expired`, KEYS.read);
    expect(expired.body.total).toBe(0);
    await client.close(100);
  } finally {
    await policy({ attempt_ttl_seconds: 60 });
  }
});

test('check() fails closed when configured to', async () => {
  const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, timeoutMs: 250, failClosed: true });
  const result = await whileFrozen(() => client.check('wendy', '198.51.100.4'));
  expect(result).toEqual({ allowed: false, reason: 'check_unavailable', degraded: true });
  await client.close(100);
});

test('check() fails open when nothing listens at all', async () => {
  const client = new AuthwatchClient({ url: 'http://127.0.0.1:1', timeoutMs: 250 });
  expect(await client.check('wendy')).toMatchObject({ allowed: true, degraded: true });
  await client.close(100);
});

test('a login through guardLogin still works while the collector is frozen', async () => {
  const client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, timeoutMs: 250, flushIntervalMs: 10 });
  const a = express();
  a.use(express.json());
  a.post('/login', client.guardLogin({ getUser: (req) => req.body?.username }), (_req, res) => {
    res.json({ ok: true });
  });
  const app = await listen(a);
  try {
    const started = Date.now();
    const res = await whileFrozen(() => post(`${app.url}/login`, { username: 'xavier', password: 'pw' }));
    console.log(`login with a frozen collector took ${Date.now() - started} ms`);
    expect(res.status).toBe(200);
    // The success was queued while the collector was frozen and arrives once it is back.
    expect(await client.flush(10_000)).toBe(true);
    const events = await collector.api<{ total: number }>('GET', '/v1/events?user=xavier&type=login&outcome=success', KEYS.read);
    expect(events.body.total).toBe(1);
  } finally {
    await app.close();
    await client.close();
  }
});

test('isSessionEnded(): unknown → false, ended → true (cached), frozen collector → fail open', async () => {
  const errors: string[] = [];
  const client = new AuthwatchClient({
    url: collector.url,
    ingestKey: KEYS.ingest,
    timeoutMs: 250,
    flushIntervalMs: 10,
    sessionCacheMs: 5_000,
    onError: (e) => errors.push(e.message),
  });
  expect(await client.isSessionEnded('s-yvonne-1')).toBe(false);
  client.report({ type: 'login', outcome: 'success', user: 'yvonne', session_id: 's-yvonne-2' });
  client.report({ type: 'logout', outcome: 'success', user: 'yvonne', session_id: 's-yvonne-2' });
  expect(await client.flush()).toBe(true);
  expect(await client.isSessionEnded('s-yvonne-2')).toBe(true);
  // An ended session stays ended: answered from the cache even while the collector is frozen.
  expect(await whileFrozen(() => client.isSessionEnded('s-yvonne-2'))).toBe(true);
  expect(await whileFrozen(() => client.isSessionEnded('s-yvonne-3'))).toBe(false);
  // The failure is reported, without the session id (a credential) in the message.
  expect(errors).toEqual(['authwatch collector GET /v1/sessions/:id: no answer within 250 ms']);
  await client.close();
});
