// guardLogin and enforceSessions in a real express app, against a live collector.

import express from 'express';
import { AuthwatchClient } from '../src';
import { listen, post, type RunningApp } from './http-app';
import { KEYS, startCollector, type LiveCollector } from './live-collector';

interface EventsBody {
  events: Array<{ user: string; type: string; outcome: string | null; reason: string | null; ip: string | null; session_id: string | null }>;
  total: number;
}

let collector: LiveCollector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector?.dispose();
});

describe('guardLogin', () => {
  let client: AuthwatchClient;
  let app: RunningApp;
  let passwordChecks = 0;

  beforeAll(async () => {
    client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, service: 'middleware-test', flushIntervalMs: 10 });
    const a = express();
    a.set('trust proxy', 'loopback');
    a.use(express.json());
    a.post(
      '/login',
      client.guardLogin({ getUser: (req) => req.body?.username }),
      (req, res) => {
        passwordChecks += 1;
        if (req.body.password === 'open sesame') res.json({ ok: true });
        else res.status(401).json({ error: 'invalid credentials' });
      },
    );
    app = await listen(a);
  });
  afterAll(async () => {
    await app?.close();
    await client?.close();
  });

  test('a locked user gets 429 with Retry-After before the password is checked', async () => {
    const user = 'mallory';
    const ip = '185.220.101.33';
    // Policy default: more than five failures lock, so the sixth failure locks the account.
    for (let i = 1; i <= 6; i++) {
      const res = await post(`${app.url}/login`, { username: user, password: `guess-${i}` }, { 'x-forwarded-for': ip });
      expect(res.status).toBe(401);
      // Each outcome is reported after the response; let it reach the collector before the next try.
      expect(await client.flush(10_000)).toBe(true);
    }
    const checksBefore = passwordChecks;
    const locked = await post(`${app.url}/login`, { username: user, password: 'open sesame' }, { 'x-forwarded-for': ip });
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    console.log(`locked: HTTP ${locked.status}, Retry-After ${locked.headers.get('retry-after')} s`);
    expect(retryAfter).toBeGreaterThan(0);
    expect(await locked.json()).toMatchObject({ error: 'too_many_attempts', reason: 'user_locked' });
    // The right password did not get through, and was not even checked.
    expect(passwordChecks).toBe(checksBefore);

    const lockouts = await collector.api<{ lockouts: Array<{ user: string; scope: string }> }>('GET', '/v1/lockouts?state=locked', KEYS.read);
    expect(lockouts.body.lockouts).toEqual(expect.arrayContaining([expect.objectContaining({ user, scope: 'user' })]));

    // What the middleware reported: six failures from the route's 401s, then the refused attempt.
    await client.flush();
    const events = await collector.api<EventsBody>('GET', `/v1/events?user=${user}&type=login&limit=50`, KEYS.read);
    const reasons = events.body.events.map((e) => e.reason).sort();
    expect(reasons).toEqual([...Array(6).fill('invalid_credentials'), 'user_locked'].sort());
    expect(new Set(events.body.events.map((e) => e.ip))).toEqual(new Set([ip]));
  });

  test('50 parallel wrong logins for one user: at most 6 reach the password check, the rest get 429', async () => {
    const user = 'parallel-victim';
    const before = passwordChecks;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(`${app.url}/login`, { username: user, password: `guess-${i}` }, { 'x-forwarded-for': `198.51.100.${i + 1}` })),
    );
    const statuses = answers.map((r) => r.status);
    const checked = passwordChecks - before;
    console.log(`50 parallel wrong logins: ${checked} password checks, ${statuses.filter((x) => x === 401).length} × 401, ${statuses.filter((x) => x === 429).length} × 429`);
    expect(checked).toBeLessThanOrEqual(6);
    expect(statuses.filter((x) => x === 401)).toHaveLength(checked);
    expect(statuses.filter((x) => x === 429)).toHaveLength(50 - checked);
    // Their outcomes settle the reservations: the account is now locked, the right password included.
    await client.flush();
    const right = await post(`${app.url}/login`, { username: user, password: 'open sesame' }, { 'x-forwarded-for': '198.51.100.200' });
    expect(right.status).toBe(429);
    expect(passwordChecks - before).toBe(checked);
  });

  test('a forged X-Forwarded-For that is no address does not open the door for a locked user', async () => {
    const res = await post(`${app.url}/login`, { username: 'mallory', password: 'open sesame' }, { 'x-forwarded-for': 'not-an-ip' });
    expect(res.status).toBe(429);
  });

  test('after an admin unlock the user logs in, and a success is reported', async () => {
    const unlock = await collector.api('POST', '/v1/users/mallory/unlock', KEYS.admin);
    expect(unlock.status).toBe(200);
    const res = await post(`${app.url}/login`, { username: 'mallory', password: 'open sesame' }, { 'x-forwarded-for': '185.220.101.33' });
    expect(res.status).toBe(200);
    await client.flush();
    const events = await collector.api<EventsBody>('GET', '/v1/events?user=mallory&type=login&outcome=success', KEYS.read);
    expect(events.body.total).toBe(1);
  });
});

describe('enforceSessions', () => {
  let client: AuthwatchClient;
  let app: RunningApp;
  const revoked: string[] = [];
  const sessions = new Map<string, string>();

  beforeAll(async () => {
    // sessionCacheMs 0: every request asks the collector, so "the next request" is refused at once.
    client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, flushIntervalMs: 10, sessionCacheMs: 0 });
    const a = express();
    a.use(express.json());
    a.post('/login', client.guardLogin({ getUser: (req) => req.body?.username }), (req, res) => {
      const id = `sess-${req.body.username}-${Math.random().toString(36).slice(2)}`;
      sessions.set(id, req.body.username);
      res.locals.authwatch = { outcome: 'success', sessionId: id };
      res.json({ session: id });
    });
    const requireSession = client.enforceSessions({
      getSessionId: (req) => req.get('x-session') ?? undefined,
      onRevoked: (_req, _res, id) => {
        revoked.push(id);
        sessions.delete(id);
      },
    });
    a.get('/me', requireSession, (req, res) => {
      const user = sessions.get(req.get('x-session') ?? '');
      if (user) res.json({ user });
      else res.status(401).json({ error: 'not logged in' });
    });
    app = await listen(a);
  });
  afterAll(async () => {
    await app?.close();
    await client?.close();
  });

  test('a session ended by an admin is refused on its next request', async () => {
    const login = await post(`${app.url}/login`, { username: 'trent', password: 'x' });
    const { session } = (await login.json()) as { session: string };
    await client.flush();
    const me = await fetch(`${app.url}/me`, { headers: { 'x-session': session } });
    expect(me.status).toBe(200);

    // The admin finds the session in the collector (ids there are keyed hashes, never the raw id).
    const listed = await collector.api<{ sessions: Array<{ id: string; user: string; state: string }> }>(
      'GET',
      '/v1/sessions?state=active&user=trent',
      KEYS.read,
    );
    expect(listed.body.sessions).toHaveLength(1);
    expect(listed.body.sessions[0].id).not.toBe(session);
    const end = await collector.api('POST', `/v1/sessions/${encodeURIComponent(listed.body.sessions[0].id)}/terminate`, KEYS.admin);
    expect(end.status).toBe(200);

    const after = await fetch(`${app.url}/me`, { headers: { 'x-session': session } });
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: 'session_ended' });
    expect(revoked).toEqual([session]);
  });

  test('a session the collector does not know yet is let through (not ended)', async () => {
    const me = await fetch(`${app.url}/me`, { headers: { 'x-session': 'never-reported' } });
    // enforceSessions passes it on; the app itself says it has no such session.
    expect(me.status).toBe(401);
    expect(await me.json()).toEqual({ error: 'not logged in' });
    expect(revoked).not.toContain('never-reported');
  });
});
