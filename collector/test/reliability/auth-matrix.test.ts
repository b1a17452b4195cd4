// Every route × {no key, wrong key, ingest, read, admin}: 401 without a valid key, 403 with a key
// whose role the wire contract (docs/collector.md) does not list for the route, 2xx with one it does;
// /healthz and /metrics are open. Refused calls must also have no effect.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, makeKeys, startCollector, type Collector, type Keys } from './collector-process';

type Who = 'none' | 'wrong' | 'ingest' | 'read' | 'admin';
type Role = 'ingest' | 'read' | 'admin' | 'open';

interface Route {
  method: string;
  /** Path with fixtures filled in; `who` gives each case its own target where the call has an effect. */
  path: (who: Who) => string;
  roles: Role[];
  body?: (who: Who) => unknown;
  ok: number;
}

const WHO: Who[] = ['none', 'wrong', 'ingest', 'read', 'admin'];
const dir = mkdtempSync(join(tmpdir(), 'authwatch-authz-'));
const keys: Keys = makeKeys();
let c: Collector;
let policy: unknown;

// Admin may also read (docs/collector.md: an admin key may also read).
const READ: Role[] = ['read', 'admin'];
const routes: Route[] = [
  { method: 'POST', path: () => '/v1/events', roles: ['ingest'], ok: 202, body: (who) => ({ id: `authz-event-${who}`, type: 'login', outcome: 'success', user: `authz-writer-${who}` }) },
  { method: 'POST', path: () => '/v1/check', roles: ['ingest'], ok: 200, body: () => ({ user: 'authz-user-0', ip: '10.0.0.1' }) },
  { method: 'GET', path: () => '/v1/sessions/authz-session-0', roles: ['ingest', ...READ], ok: 200 },
  { method: 'GET', path: () => '/v1/events?limit=5', roles: READ, ok: 200 },
  { method: 'GET', path: () => '/v1/events.csv?limit=5', roles: READ, ok: 200 },
  { method: 'GET', path: () => '/v1/sessions?state=all', roles: READ, ok: 200 },
  { method: 'POST', path: (who) => `/v1/sessions/authz-session-${who}/terminate`, roles: ['admin'], ok: 200 },
  { method: 'POST', path: (who) => `/v1/users/authz-user-${who}/sessions/terminate`, roles: ['admin'], ok: 200 },
  { method: 'GET', path: () => '/v1/lockouts?state=all', roles: READ, ok: 200 },
  { method: 'POST', path: (who) => `/v1/users/authz-locked-${who}/unlock`, roles: ['admin'], ok: 200 },
  { method: 'GET', path: () => '/v1/policy', roles: READ, ok: 200 },
  { method: 'PUT', path: () => '/v1/policy', roles: ['admin'], ok: 200, body: () => policy },
  // Routes the core added beyond the contract's table (read or admin, or any valid key).
  { method: 'GET', path: () => '/v1/stats', roles: READ, ok: 200 },
  { method: 'GET', path: () => '/v1/timeseries?group_by=reason', roles: READ, ok: 200 },
  { method: 'GET', path: () => '/v1/values/user', roles: READ, ok: 200 },
  { method: 'POST', path: () => '/v1/ips/10.0.0.9/unlock', roles: ['admin'], ok: 200 },
  { method: 'GET', path: () => '/v1/whoami', roles: ['ingest', ...READ], ok: 200 },
  { method: 'GET', path: () => '/v1/openapi.json', roles: ['ingest', ...READ], ok: 200 },
  { method: 'GET', path: () => '/healthz', roles: ['open'], ok: 200 },
  { method: 'GET', path: () => '/metrics', roles: ['open'], ok: 200 },
];

function headersFor(who: Who): Record<string, string> {
  if (who === 'none') return {};
  if (who === 'wrong') return bearer(`aw_wrong_${keys.admin.slice(9)}`);
  return bearer(keys[who]);
}

function expected(route: Route, who: Who): number {
  if (route.roles.includes('open')) return route.ok;
  if (who === 'none' || who === 'wrong') return 401;
  return route.roles.includes(who) ? route.ok : 403;
}

async function call(route: Route, who: Who) {
  const body = route.body?.(who);
  const res = await fetch(`${c.url}${route.path(who)}`, {
    method: route.method,
    // State-changing routes take JSON even without a body (a browser form cannot send it).
    headers: { ...headersFor(who), ...(body !== undefined || route.method !== 'GET' ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function ingest(events: unknown[]) {
  const res = await fetch(`${c.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(keys.ingest) },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(202);
}

async function sessionState(id: string): Promise<string> {
  const res = await fetch(`${c.url}/v1/sessions/${id}`, { headers: bearer(keys.read) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { state: string }).state;
}

beforeAll(async () => {
  c = await startCollector({ dbFile: join(dir, 'authwatch.db'), keys });
  // One session (and one user with a session, one locked user) per caller, so that a call that
  // should have been refused but was not shows up as a changed state.
  const events: unknown[] = [{ type: 'login', outcome: 'success', user: 'authz-user-0', session_id: 'authz-session-0', ip: '10.0.0.1' }];
  WHO.forEach((who, i) => {
    events.push({ type: 'login', outcome: 'success', user: `authz-owner-${who}`, session_id: `authz-session-${who}`, ip: '10.0.0.2' });
    events.push({ type: 'login', outcome: 'success', user: `authz-user-${who}`, session_id: `authz-user-session-${who}`, ip: '10.0.0.3' });
    // Own IP per user: 40 failures from one address would block the IP and stop the counting.
    for (let k = 0; k < 8; k++) events.push({ type: 'login', outcome: 'failure', reason: 'invalid_password', user: `authz-locked-${who}`, ip: `10.0.1.${i + 1}` });
  });
  await ingest(events);
  const p = await fetch(`${c.url}/v1/policy`, { headers: bearer(keys.admin) });
  expect(p.status).toBe(200);
  policy = await p.json();
});

afterAll(async () => {
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Refusals first, so the allowed calls below still find their fixtures untouched.
const refused = routes.flatMap((r) => WHO.filter((w) => expected(r, w) !== r.ok).map((w) => [`${r.method} ${r.path(w)}`, w, r] as const));
const allowed = routes.flatMap((r) => WHO.filter((w) => expected(r, w) === r.ok).map((w) => [`${r.method} ${r.path(w)}`, w, r] as const));

test.each(refused)('%s with %s key is refused', async (_name, who, route) => {
  const r = await call(route, who);
  expect({ status: r.status }).toEqual({ status: expected(route, who) });
  expect(r.type).toMatch(/application\/json/);
  expect(typeof (JSON.parse(r.text) as { error?: unknown }).error).toBe('string');
  // Never echo a key back.
  for (const k of Object.values(keys)) expect(r.text).not.toContain(k);
});

test('refused calls changed nothing', async () => {
  for (const who of WHO) {
    expect(await sessionState(`authz-session-${who}`)).toBe('active');
    expect(await sessionState(`authz-user-session-${who}`)).toBe('active');
  }
  const ev = await fetch(`${c.url}/v1/events?user=authz-writer-read&limit=5`, { headers: bearer(keys.read) });
  expect(((await ev.json()) as { events: unknown[] }).events).toHaveLength(0);
  const locks = await fetch(`${c.url}/v1/lockouts?state=locked`, { headers: bearer(keys.read) });
  const locked = ((await locks.json()) as { lockouts: { user: string }[] }).lockouts.map((l) => l.user);
  for (const who of WHO) expect(locked).toContain(`authz-locked-${who}`);
});

test.each(allowed)('%s with %s key is allowed', async (_name, who, route) => {
  const r = await call(route, who);
  expect({ status: r.status, body: r.status === route.ok ? '' : r.text }).toEqual({ status: route.ok, body: '' });
});

test('allowed admin calls took effect', async () => {
  expect(await sessionState('authz-session-admin')).toBe('ended');
  expect(await sessionState('authz-user-session-admin')).toBe('ended');
  const locks = await fetch(`${c.url}/v1/lockouts?state=locked`, { headers: bearer(keys.read) });
  const locked = ((await locks.json()) as { lockouts: { user: string }[] }).lockouts.map((l) => l.user);
  expect(locked).not.toContain('authz-locked-admin');
  console.log(`auth matrix: ${routes.length} routes × ${WHO.length} callers = ${refused.length} refused + ${allowed.length} allowed cases`);
});
