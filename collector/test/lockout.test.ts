// Lockout engine through the real HTTP API and SQLite: the 6th failure locks, /v1/check answers,
// admin unlock, user_ip scope, IP blocking, escalation, permanent locks, exact counting under
// concurrency.
import { DEFAULT_POLICY } from '../src/schema/policy';
import { ev, startServer, type TestServer } from './helpers/server';

let s: TestServer;
// The collector's enforcement clock, moved forward to let locks run out.
let offset = 0;
beforeAll(async () => {
  s = await startServer({ clock: () => Date.now() + offset });
});
afterAll(async () => {
  await s.stop(true);
});

const fail = (user: string, ip: string, time?: number) => ev({ user, ip, outcome: 'failure', reason: 'invalid_password', ...(time ? { time } : {}) });
const check = async (user: string, ip: string) => (await s.post('/v1/check', { user, ip })).body;
const setPolicy = async (p: Record<string, unknown>) => {
  const r = await s.req('PUT', '/v1/policy', { body: { ...DEFAULT_POLICY, ...p } });
  expect(r.status).toBe(200);
};
const locksOf = async (user: string) => (await s.get(`/v1/lockouts?state=all&user=${encodeURIComponent(user)}`)).body.lockouts as any[];

beforeEach(async () => {
  await setPolicy({});
});

test('default policy: five failures are allowed, the 6th locks the user for lock_seconds', async () => {
  for (let i = 0; i < 5; i++) expect((await s.post('/v1/events', fail('alice', '203.0.113.1'))).status).toBe(202);
  expect(await check('alice', '203.0.113.1')).toEqual({ allowed: true });
  await s.post('/v1/events', fail('alice', '203.0.113.1'));
  const c = await check('alice', '198.51.100.9');
  expect(c.allowed).toBe(false);
  expect(c.reason).toBe('user_locked');
  expect(c.retry_after).toBeGreaterThan(890);
  expect(c.retry_after).toBeLessThanOrEqual(900);

  // Failures while locked neither count nor extend the lock.
  const before = await locksOf('alice');
  for (let i = 0; i < 3; i++) await s.post('/v1/events', fail('alice', '203.0.113.1'));
  const after = await locksOf('alice');
  expect(after).toHaveLength(1);
  expect(after[0]).toMatchObject({ user: 'alice', scope: 'user', failures: 6, reason: 'too_many_failures', state: 'locked' });
  expect(after[0].locked_until).toBe(before[0].locked_until);
  expect(after[0].locked_until - after[0].locked_at).toBe(900_000);

  // The lock is a stored event.
  const lockEvents = (await s.get('/v1/events?type=lockout&user=alice')).body;
  expect(lockEvents.total).toBe(1);
  expect(lockEvents.events[0].attributes).toMatchObject({ scope: 'user', failures: 6, ip: '203.0.113.1' });

  // Admin unlock allows again and is audited with the key name and Grafana user.
  const u = await s.req('POST', '/v1/users/alice/unlock', { headers: { 'x-grafana-user': 'sre-jane' } });
  expect(u.status).toBe(200);
  expect(u.body).toEqual({ unlocked: 1 });
  expect(await check('alice', '203.0.113.1')).toEqual({ allowed: true });
  const unlockEv = (await s.get('/v1/events?type=unlock&user=alice')).body.events;
  expect(unlockEv).toHaveLength(1);
  expect(unlockEv[0].actor).toBe('ops (grafana:sre-jane)');
  const audit = (await s.get('/v1/events?type=admin&user=alice')).body.events;
  expect(audit[0]).toMatchObject({ reason: 'unlock_user', actor: 'ops (grafana:sre-jane)' });
  expect((await s.get('/v1/lockouts?user=alice')).body.lockouts).toHaveLength(0);
});

test('a success resets the count', async () => {
  for (let i = 0; i < 5; i++) await s.post('/v1/events', fail('reset-user', '203.0.113.2'));
  await s.post('/v1/events', ev({ user: 'reset-user', ip: '203.0.113.2' }));
  for (let i = 0; i < 5; i++) await s.post('/v1/events', fail('reset-user', '203.0.113.2'));
  expect(await check('reset-user', '203.0.113.2')).toEqual({ allowed: true });
  await s.post('/v1/events', fail('reset-user', '203.0.113.2'));
  expect((await check('reset-user', '203.0.113.2')).allowed).toBe(false);
});

test('failures outside the sliding window do not count', async () => {
  const t0 = Date.now() - 3_600_000;
  // Five failures an hour ago, then five now: never more than five inside 600 s.
  await s.post('/v1/events', Array.from({ length: 5 }, (_, i) => fail('window-user', '203.0.113.3', t0 + i)));
  await s.post('/v1/events', Array.from({ length: 5 }, (_, i) => fail('window-user', '203.0.113.3', Date.now() - 10 + i)));
  expect(await check('window-user', '203.0.113.3')).toEqual({ allowed: true });
});

test('scope user_ip: a lock earned from IP A leaves IP B allowed', async () => {
  await setPolicy({ scope: 'user_ip' });
  for (let i = 0; i < 6; i++) await s.post('/v1/events', fail('bob', '192.0.2.10'));
  expect(await check('bob', '192.0.2.10')).toMatchObject({ allowed: false, reason: 'user_ip_locked' });
  expect(await check('bob', '192.0.2.11')).toEqual({ allowed: true });
  const locks = await locksOf('bob');
  expect(locks).toEqual([expect.objectContaining({ scope: 'user_ip', ip: '192.0.2.10', failures: 6 })]);
});

test('an IP failing for many users is blocked for everyone', async () => {
  const ip = '198.51.100.77';
  // 20 failures allowed (ip_max_failed_attempts), the 21st blocks; each user fails once only.
  await s.post('/v1/events', Array.from({ length: 20 }, (_, i) => fail(`spray${i}`, ip)));
  expect(await check('someone-else', ip)).toEqual({ allowed: true });
  await s.post('/v1/events', fail('spray20', ip));
  expect(await check('someone-else', ip)).toMatchObject({ allowed: false, reason: 'ip_blocked' });
  const ipLocks = (await s.get('/v1/lockouts')).body.lockouts.filter((l: any) => l.scope === 'ip');
  expect(ipLocks).toEqual([expect.objectContaining({ ip, user: null, failures: 21 })]);
  expect((await s.req('POST', `/v1/ips/${ip}/unlock`)).body).toEqual({ unlocked: 1 });
  expect(await check('someone-else', ip)).toEqual({ allowed: true });
});

/** Earns `n` locks for `user` one after another on the collector's clock; returns their durations (s, null = permanent). */
let nextIp = 1;
async function earnLocks(user: string, n: number, lockSeconds: number): Promise<(number | null)[]> {
  // A fresh IP per user so the per-IP block (ip_max_failed_attempts) stays out of the way.
  const ip = `100.64.0.${nextIp++}`;
  const step = (lockSeconds * 64 + 10) * 1000;
  for (let k = 0; k < n; k++) {
    if (k > 0) offset += step; // past the longest lock this test can produce
    await s.post('/v1/events', Array.from({ length: 6 }, () => fail(user, ip)));
  }
  const locks = (await locksOf(user)).sort((a, b) => a.locked_at - b.locked_at);
  expect(locks).toHaveLength(n);
  return locks.map((l) => (l.locked_until === null ? null : (l.locked_until - l.locked_at) / 1000));
}

test('escalation none / linear / multiple, capped at max_lock_seconds', async () => {
  await setPolicy({ lock_seconds: 60, escalation: 'none', max_lock_seconds: 200 });
  expect(await earnLocks('esc-none', 3, 60)).toEqual([60, 60, 60]);
  await setPolicy({ lock_seconds: 60, escalation: 'linear', max_lock_seconds: 200 });
  expect(await earnLocks('esc-linear', 4, 60)).toEqual([60, 120, 180, 200]);
  await setPolicy({ lock_seconds: 60, escalation: 'multiple', max_lock_seconds: 200 });
  expect(await earnLocks('esc-multiple', 3, 60)).toEqual([60, 120, 200]);
});

test('permanent_after: after N locks the next one lasts until an admin unlocks', async () => {
  await setPolicy({ lock_seconds: 60, escalation: 'linear', permanent_after: 2 });
  expect(await earnLocks('perm-user', 3, 60)).toEqual([60, 120, null]);
  expect(await check('perm-user', '198.18.0.1')).toEqual({ allowed: false, reason: 'user_locked', retry_after: null });
  const lockEv = (await s.get('/v1/events?type=lockout&user=perm-user&limit=1')).body.events[0];
  expect(lockEv.attributes.permanent).toBe(true);
  expect((await s.req('POST', '/v1/users/perm-user/unlock')).body).toEqual({ unlocked: 1 });
  expect(await check('perm-user', '198.18.0.1')).toEqual({ allowed: true });
});

test('50 concurrent failing requests lock exactly once with the exact count', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, () => s.post('/v1/events', fail('carol', '203.0.113.99'))));
  expect(results.every((r) => r.status === 202)).toBe(true);
  const locks = await locksOf('carol');
  expect(locks).toHaveLength(1);
  expect(locks[0].failures).toBe(6);
  expect((await s.get('/v1/events?user=carol&type=login')).body.total).toBe(50);
  // The 44 failures after the account lock still count against their address: blocked once, at 21.
  const ipLocks = (await s.get('/v1/lockouts?state=all')).body.lockouts.filter((l: any) => l.scope === 'ip' && l.ip === '203.0.113.99');
  expect(ipLocks).toEqual([expect.objectContaining({ failures: 21 })]);
  expect((await s.get('/v1/events?user=carol&type=lockout')).body.total).toBe(2);
});

test('PUT /v1/policy validates and is audited; read keys cannot change it', async () => {
  const bad = await s.req('PUT', '/v1/policy', { body: { max_failed_attempts: 0, escalation: 'exponential', bogus: 1 } });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatch(/invalid policy/);
  const paths = bad.body.details.map((d: any) => d.path);
  expect(paths).toEqual(expect.arrayContaining(['max_failed_attempts', 'escalation', 'bogus']));
  expect((await s.get('/v1/policy')).body).toEqual(DEFAULT_POLICY);
  expect((await s.req('PUT', '/v1/policy', { key: 'read', body: { lock_seconds: 5 } })).status).toBe(403);
  const ok = await s.req('PUT', '/v1/policy', { body: { lock_seconds: 120 } });
  expect(ok.body.lock_seconds).toBe(120);
  expect(ok.body.max_failed_attempts).toBe(5);
  const audit = (await s.get('/v1/events?type=admin&reason=policy_update&limit=1')).body.events[0];
  expect(audit).toMatchObject({ actor: 'ops', attributes: { lock_seconds: 120 } });
});

test('a locked account hammered from one address still gets that address blocked', async () => {
  const ip = '198.51.100.199';
  // Six failures lock the account; the next fifteen hit the locked name from the same address.
  for (let i = 0; i < 21; i++) await s.post('/v1/events', fail('hammered', ip));
  expect((await locksOf('hammered'))).toEqual([expect.objectContaining({ scope: 'user', failures: 6 })]);
  expect(await check('someone-else', ip)).toMatchObject({ allowed: false, reason: 'ip_blocked' });
});
