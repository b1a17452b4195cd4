// Sessions through the real API: open on login, touch on access, and every way to end one —
// logout, client session_end, idle timeout (sweeper), new_login, ip_conflict, admin.
import { readFileSync } from 'node:fs';
import { DEFAULT_POLICY } from '../src/schema/policy';
import { ev, startServer, type TestServer } from './helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s.stop(true);
});
beforeEach(async () => {
  expect((await s.req('PUT', '/v1/policy', { body: DEFAULT_POLICY })).status).toBe(200);
});

const login = (user: string, session_id: string, extra: Record<string, unknown> = {}) =>
  s.post('/v1/events', ev({ user, session_id, ip: '198.51.100.1', service: 'portal', device: 'laptop-7', ...extra }));
const state = async (id: string, key: 'ingest' | 'read' = 'ingest') => (await s.get(`/v1/sessions/${encodeURIComponent(id)}`, key)).body;

test('a successful login opens a session; access touches it; logout ends it', async () => {
  const t0 = Date.now() - 60_000;
  expect((await login('ann', 'raw-session-ann-1', { time: t0 })).status).toBe(202);
  const listed = (await s.get('/v1/sessions?user=ann')).body.sessions;
  expect(listed).toHaveLength(1);
  const hash = listed[0].id;
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  expect(listed[0]).toMatchObject({ user: 'ann', ip: '198.51.100.1', service: 'portal', device: 'laptop-7', state: 'active', started_at: t0, last_seen_at: t0, ended_at: null });
  // The app asks with its raw id, Grafana with the listed hash.
  expect(await state('raw-session-ann-1')).toEqual({ id: hash, state: 'active', end_reason: null });
  expect(await state(hash, 'read')).toEqual({ id: hash, state: 'active', end_reason: null });

  await s.post('/v1/events', ev({ type: 'access', outcome: 'success', reason: 'report_download', user: 'ann', session_id: 'raw-session-ann-1', time: t0 + 5000 }));
  expect((await s.get('/v1/sessions?user=ann')).body.sessions[0].last_seen_at).toBe(t0 + 5000);

  await s.post('/v1/events', ev({ type: 'logout', outcome: 'success', user: 'ann', session_id: 'raw-session-ann-1', time: t0 + 9000 }));
  expect(await state('raw-session-ann-1')).toEqual({ id: hash, state: 'ended', end_reason: 'logout' });
  const ends = (await s.get('/v1/events?type=session_end&user=ann')).body.events;
  expect(ends).toEqual([expect.objectContaining({ reason: 'logout', session_id: hash, time: t0 + 9000 })]);
  expect((await s.get('/v1/sessions?user=ann')).body.sessions).toHaveLength(0);
  expect((await s.get('/v1/sessions?user=ann&state=ended')).body.sessions[0]).toMatchObject({ state: 'ended', end_reason: 'logout', ended_at: t0 + 9000 });
});

test('a failed login opens nothing; unknown sessions are 404', async () => {
  await s.post('/v1/events', ev({ user: 'nobody', session_id: 'sess-x', outcome: 'failure', reason: 'invalid_password' }));
  expect((await s.get('/v1/sessions/sess-x', 'ingest')).status).toBe(404);
  expect((await s.get('/v1/sessions?user=nobody&state=all')).body.sessions).toHaveLength(0);
});

test("a client's session_end ends the session with its reason", async () => {
  await login('cli', 'sess-cli');
  await s.post('/v1/events', ev({ type: 'session_end', outcome: null, reason: 'totp_timeout', user: 'cli', session_id: 'sess-cli' }));
  expect((await state('sess-cli')).end_reason).toBe('totp_timeout');
});

test('single_session: a newer login ends the other sessions with new_login', async () => {
  await s.req('PUT', '/v1/policy', { body: { single_session: true } });
  const t = Date.now();
  await login('sam', 'sam-1', { time: t });
  await login('sam', 'sam-2', { time: t + 1000 });
  expect(await state('sam-1')).toMatchObject({ state: 'ended', end_reason: 'new_login' });
  expect(await state('sam-2')).toMatchObject({ state: 'active' });
  const ends = (await s.get('/v1/events?type=session_end&user=sam')).body.events;
  expect(ends.map((e: any) => e.reason)).toEqual(['new_login']);
});

test('without single_session, sessions coexist', async () => {
  await login('multi', 'm-1');
  await login('multi', 'm-2');
  expect((await s.get('/v1/sessions?user=multi')).body.sessions).toHaveLength(2);
});

test('session_ip_binding: access from another IP ends the session with ip_conflict', async () => {
  await s.req('PUT', '/v1/policy', { body: { session_ip_binding: true } });
  await login('ivy', 'ivy-1', { ip: '203.0.113.5' });
  await s.post('/v1/events', ev({ type: 'access', user: 'ivy', session_id: 'ivy-1', ip: '203.0.113.5' }));
  expect((await state('ivy-1')).state).toBe('active');
  await s.post('/v1/events', ev({ type: 'access', user: 'ivy', session_id: 'ivy-1', ip: '192.0.2.99' }));
  expect(await state('ivy-1')).toMatchObject({ state: 'ended', end_reason: 'ip_conflict' });
});

test('admin terminate one (200, then 409), unknown 404, terminate all of a user, audited', async () => {
  await login('tom', 'tom-1');
  await login('tom', 'tom-2');
  await login('tom', 'tom-3');
  const hash = (await state('tom-1')).id;
  const r = await s.req('POST', `/v1/sessions/${hash}/terminate`, { headers: { 'x-grafana-user': 'admin-ann' } });
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ id: hash, state: 'ended', end_reason: 'terminated_by_admin' });
  expect(await state('tom-1')).toMatchObject({ state: 'ended', end_reason: 'terminated_by_admin' });
  expect((await s.req('POST', `/v1/sessions/${hash}/terminate`)).status).toBe(409);
  expect((await s.req('POST', '/v1/sessions/no-such-session/terminate')).status).toBe(404);
  // Raw ids work too.
  const all = await s.req('POST', '/v1/users/tom/sessions/terminate');
  expect(all.body).toEqual({ terminated: 2 });
  expect((await state('tom-3')).end_reason).toBe('terminated_by_admin');
  expect((await s.get('/v1/sessions?user=tom')).body.sessions).toHaveLength(0);
  const ends = (await s.get('/v1/events?type=session_end&user=tom')).body.events;
  expect(ends).toHaveLength(3);
  expect(ends.every((e: any) => e.reason === 'terminated_by_admin')).toBe(true);
  const audit = (await s.get('/v1/events?type=admin&user=tom&order=asc')).body.events;
  expect(audit.map((e: any) => [e.reason, e.actor])).toEqual([
    ['terminate_session', 'ops (grafana:admin-ann)'],
    ['terminate_user_sessions', 'ops'],
  ]);
  // Only admins may act.
  expect((await s.req('POST', '/v1/users/tom/sessions/terminate', { key: 'read' })).status).toBe(403);
});

test('raw session ids are never stored, only their keyed hash', async () => {
  await login('priv', 'very-secret-raw-session-id-123');
  const hash = (await state('very-secret-raw-session-id-123')).id;
  await s.collector.pipeline.flush();
  for (const f of [s.dbFile, s.dbFile + '-wal']) {
    let bytes = '';
    try {
      bytes = readFileSync(f).toString('latin1');
    } catch {
      continue;
    }
    expect(bytes.includes('very-secret-raw-session-id-123')).toBe(false);
  }
  expect(hash).toBe(s.collector.hashSessionId('very-secret-raw-session-id-123'));
});

describe('idle timeout', () => {
  let idle: TestServer;
  beforeAll(async () => {
    idle = await startServer({ env: { AUTHWATCH_SWEEP_SECONDS: '0.1' } });
  });
  afterAll(async () => {
    await idle.stop(true);
  });

  test('the sweeper ends idle sessions with idle_timeout and records a session_end', async () => {
    await idle.req('PUT', '/v1/policy', { body: { idle_timeout_seconds: 5 } });
    const t0 = Date.now() - 8000;
    await idle.post('/v1/events', ev({ user: 'sleepy', session_id: 'zz-1', time: t0 }));
    await idle.post('/v1/events', ev({ user: 'awake', session_id: 'aa-1' }));
    let st: any;
    for (let i = 0; i < 100; i++) {
      st = (await idle.get('/v1/sessions/zz-1', 'ingest')).body;
      if (st.state === 'ended') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(st).toMatchObject({ state: 'ended', end_reason: 'idle_timeout' });
    expect((await idle.get('/v1/sessions/aa-1', 'ingest')).body.state).toBe('active');
    const ends = (await idle.get('/v1/events?type=session_end&user=sleepy')).body.events;
    expect(ends).toEqual([expect.objectContaining({ reason: 'idle_timeout', time: t0 + 5000 })]);
  });
});

test('ending the sessions of, or unlocking, a user the collector has never seen is a 404 and leaves no audit event', async () => {
  const term = await s.req('POST', '/v1/users/never-seen-user/sessions/terminate');
  expect(term.status).toBe(404);
  expect(term.body.error).toMatch(/no such user/);
  const unlock = await s.req('POST', '/v1/users/never-seen-user/unlock');
  expect(unlock.status).toBe(404);
  expect((await s.get('/v1/events?user=never-seen-user')).body.total).toBe(0);
  expect((await s.get('/v1/values/user')).body.values).not.toContain('never-seen-user');
});
