// Keys and roles: every endpoint refuses a missing or wrong key; ingest keys can neither read nor
// act as admin; read keys cannot act; whoami; hidden details for readers; Grafana self view.
import { ev, startServer, type TestServer } from './helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startServer({ env: { AUTHWATCH_HIDE_DETAILS: '1' } });
  await s.post('/v1/events', [
    ev({ user: 'alice', ip: '203.0.113.10', session_id: 'alice-s1' }),
    ev({ user: 'bob', ip: '203.0.113.11', session_id: 'bob-s1' }),
    ...Array.from({ length: 6 }, () => ev({ user: 'bob', ip: '203.0.113.11', outcome: 'failure', reason: 'invalid_password' })),
  ]);
});
afterAll(async () => {
  await s.stop(true);
});

type Access = 'ingest' | 'read' | 'ingest_or_read' | 'admin' | 'any';
// Every row has 4 entries: jest treats a missing trailing argument as a done() callback.
const ENDPOINTS: [string, string, Access, unknown][] = [
  ['POST', '/v1/events', 'ingest', { type: 'login', user: 'zed' }],
  ['POST', '/v1/check', 'ingest', { user: 'zed' }],
  ['GET', '/v1/sessions/alice-s1', 'ingest_or_read', undefined],
  ['GET', '/v1/events', 'read', undefined],
  ['GET', '/v1/events.csv', 'read', undefined],
  ['GET', '/v1/timeseries', 'read', undefined],
  ['GET', '/v1/stats', 'read', undefined],
  ['GET', '/v1/values/user', 'read', undefined],
  ['GET', '/v1/sessions', 'read', undefined],
  ['GET', '/v1/lockouts', 'read', undefined],
  ['GET', '/v1/policy', 'read', undefined],
  ['GET', '/v1/whoami', 'any', undefined],
  ['GET', '/v1/openapi.json', 'any', undefined],
  ['PUT', '/v1/policy', 'admin', { lock_seconds: 900 }],
  ['POST', '/v1/sessions/nope/terminate', 'admin', undefined],
  ['POST', '/v1/users/nobody/sessions/terminate', 'admin', undefined],
  ['POST', '/v1/users/nobody/unlock', 'admin', undefined],
  ['POST', '/v1/ips/192.0.2.1/unlock', 'admin', undefined],
];
const ALLOWED: Record<Access, string[]> = {
  ingest: ['ingest'],
  read: ['read', 'admin'],
  ingest_or_read: ['ingest', 'read', 'admin'],
  admin: ['admin'],
  any: ['ingest', 'read', 'admin'],
};

test.each(ENDPOINTS)('%s %s refuses a missing or wrong key (401) and the wrong role (403)', async (method, path, access, body) => {
  const none = await s.req(method, path, { key: null, body });
  expect(none.status).toBe(401);
  expect(none.body.error).toMatch(/missing API key/);
  const wrong = await s.req(method, path, { key: null, body, headers: { authorization: 'Bearer not-a-key' } });
  expect(wrong.status).toBe(401);
  expect(wrong.body.error).toBe('invalid API key');
  for (const role of ['ingest', 'read', 'admin'] as const) {
    const r = await s.req(method, path, { key: role, body });
    if (ALLOWED[access].includes(role)) {
      expect([401, 403]).not.toContain(r.status);
    } else {
      expect(r.status).toBe(403);
      expect(r.body.error).toMatch(/needs the .* role/);
    }
  }
});

test('health and metrics need no key', async () => {
  expect((await s.req('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
  expect((await s.req('GET', '/metrics', { key: null })).status).toBe(200);
});

test('whoami names the role and key', async () => {
  expect((await s.get('/v1/whoami', 'ingest')).body).toEqual({ role: 'ingest', key: 'app' });
  expect((await s.get('/v1/whoami', 'read')).body).toEqual({ role: 'read', key: 'grafana' });
  expect((await s.get('/v1/whoami', 'admin')).body).toEqual({ role: 'admin', key: 'ops' });
});

test('AUTHWATCH_HIDE_DETAILS hides network and location details from read keys, not from admins', async () => {
  const asRead = (await s.get('/v1/events?user=alice', 'read')).body.events[0];
  expect(asRead.ip).toBeNull();
  expect(asRead.country).toBeNull();
  const asAdmin = (await s.get('/v1/events?user=alice', 'admin')).body.events[0];
  expect(asAdmin.ip).toBe('203.0.113.10');
  expect((await s.get('/v1/sessions?user=alice', 'read')).body.sessions[0].ip).toBeNull();
  expect((await s.get('/v1/lockouts', 'read')).body.lockouts[0].ip).toBeNull();
  expect((await s.get('/v1/lockouts', 'admin')).body.lockouts[0].ip).toBe('203.0.113.11');
  const csv = (await s.req('GET', '/v1/events.csv?user=alice', { key: 'read' })).text;
  expect(csv).not.toContain('203.0.113.10');
  // Distinct addresses are the hidden detail itself: refused, not an empty list that looks like data.
  const values = await s.get('/v1/values/ip', 'read');
  expect(values.status).toBe(403);
  expect(values.body.error).toMatch(/hides network details/);
});

test('self view limits every read endpoint to the Grafana user', async () => {
  const self = { 'x-authwatch-self-view': 'true', 'x-grafana-user': 'alice' };
  const get = (path: string) => s.req('GET', path, { key: 'read', headers: self });
  const events = (await get('/v1/events')).body;
  expect(events.total).toBeGreaterThan(0);
  expect(events.events.every((e: any) => e.user === 'alice')).toBe(true);
  expect((await get('/v1/events?user=bob')).body.total).toBe(0);
  expect((await get('/v1/sessions')).body.sessions.map((x: any) => x.user)).toEqual(['alice']);
  expect((await get('/v1/lockouts')).body.lockouts).toEqual([]);
  expect((await get('/v1/values/user')).body.values).toEqual(['alice']);
  expect((await get('/v1/stats')).body).toMatchObject({ logins: 1, failures: 0, unique_users: 1, locked_accounts: 0, active_sessions: 1 });
  expect((await get('/v1/sessions/bob-s1')).status).toBe(404);
  const csv = (await get('/v1/events.csv')).text;
  expect(csv).not.toContain('bob');
  // Self view without a user name sees nothing rather than everything.
  const noUser = await s.req('GET', '/v1/events', { key: 'read', headers: { 'x-authwatch-self-view': 'true' } });
  expect(noUser.body.total).toBe(0);
});

test('no key or request body ever reaches the log', async () => {
  await s.req('POST', '/v1/events', { key: 'ingest', body: { type: 'login', user: 'logcheck', session_id: 'raw-sess-log', attributes: { password: 'hunter2' } } });
  const all = s.logs.join('');
  for (const secret of ['ingest-secret-1', 'read-secret-1', 'admin-secret-1', 'hunter2', 'raw-sess-log']) expect(all).not.toContain(secret);
});

test('every error carries a code from the one registry', async () => {
  expect((await s.req('GET', '/v1/events', { key: null })).body.code).toBe('AW_UNAUTHORIZED');
  expect((await s.req('PUT', '/v1/policy', { key: 'read', body: {} })).body.code).toBe('AW_FORBIDDEN');
  expect((await s.req('GET', '/v1/events?usr=alice', { key: 'read' })).body).toMatchObject({ code: 'AW_BAD_REQUEST', error: expect.stringMatching(/usr/) });
  expect((await s.req('GET', '/v1/nowhere', { key: 'read' })).body.code).toBe('AW_NOT_FOUND');
  expect((await s.req('POST', '/v1/events', { key: 'ingest', raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).body.code).toBe('AW_UNSUPPORTED_MEDIA_TYPE');
  expect((await s.req('POST', '/v1/events', { key: 'ingest', raw: '{"type":', headers: { 'content-type': 'application/json' } })).body.code).toBe('AW_BAD_REQUEST');
});
