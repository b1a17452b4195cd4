// The demo login app against a live collector: what it reports for logins, page views, logouts,
// idle expiry and admin-ended sessions — and that no password or raw session id reaches the store.

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { AuthwatchClient } from '@authwatch/client';
import { KEYS, startCollector, type LiveCollector } from '../../client/test/live-collector';
import { SimulatedBrowser } from '../src/browser';
import { createDemoApp, type DemoApp } from '../src/app';
import { ATTACK_BLOCKS, HOME_BLOCKS, TRAVEL_BLOCK, randomAddress } from '../src/ip-ranges';
import { DEMO_USERS } from '../src/users';

interface StoredEvent {
  type: string;
  outcome: string | null;
  reason: string | null;
  user: string;
  ip: string | null;
  country: string | null;
  session_id: string | null;
  browser: string | null;
}

let collector: LiveCollector;
let client: AuthwatchClient;
let demo: DemoApp;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  collector = await startCollector();
  client = new AuthwatchClient({ url: collector.url, ingestKey: KEYS.ingest, flushIntervalMs: 10, sessionCacheMs: 0 });
  demo = createDemoApp({ client, users: DEMO_USERS, idleTimeoutMs: 60_000 });
  server = demo.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await client?.close();
  await collector?.dispose();
});

async function events(query: string): Promise<StoredEvent[]> {
  await client.flush();
  const r = await collector.api<{ events: StoredEvent[] }>('GET', `/v1/events?${query}&limit=200`, KEYS.read);
  return r.body.events;
}

const alice = DEMO_USERS.find((u) => u.name === 'alice')!;
const aliceIp = randomAddress(HOME_BLOCKS.DE[0].cidr);
const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0';

test('a typo, then a login, a page view and a logout are reported with the client address and browser', async () => {
  const b = new SimulatedBrowser(baseUrl, firefox, aliceIp);
  expect((await b.request('POST', '/login', { username: 'alice', password: 'blue-harbour-17' })).status).toBe(401);
  expect((await b.request('POST', '/login', { username: 'nobody', password: 'x' })).status).toBe(401);
  expect((await b.request('POST', '/login', { username: 'alice', password: alice.password })).status).toBe(200);
  expect((await b.request('GET', '/account')).status).toBe(200);
  expect((await b.request('POST', '/logout')).status).toBe(200);
  expect((await b.request('GET', '/account')).status).toBe(401);

  const got = await events('user=alice');
  // What the app reported (the collector adds its own session_end when the logout closes the session).
  const summary = got
    .filter((e) => e.type !== 'session_end')
    .map((e) => [e.type, e.outcome, e.reason])
    .reverse();
  expect(got.filter((e) => e.type === 'session_end').map((e) => e.reason)).toEqual(['logout']);
  expect(summary).toEqual([
    ['login', 'failure', 'invalid_password'],
    ['login', 'success', null],
    ['access', 'success', 'account_page'],
    ['logout', 'success', 'logout'],
  ]);
  expect(new Set(got.map((e) => e.ip))).toEqual(new Set([aliceIp]));
  expect(got.find((e) => e.type === 'login')?.browser).toBe('Firefox');
  expect((await events('user=nobody')).map((e) => e.reason)).toEqual(['invalid_user']);
  const sessions = await collector.api<{ sessions: Array<{ state: string; end_reason: string | null }> }>('GET', '/v1/sessions?state=all&user=alice', KEYS.read);
  expect(sessions.body.sessions.map((s) => s.state)).toEqual(['ended']);
});

test('an idle session is ended with idle_timeout', async () => {
  const short = createDemoApp({ client, users: DEMO_USERS, idleTimeoutMs: 1 });
  const s = short.app.listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  try {
    const b = new SimulatedBrowser(`http://127.0.0.1:${(s.address() as AddressInfo).port}`, firefox, randomAddress(HOME_BLOCKS.GB[0].cidr));
    const bob = DEMO_USERS.find((u) => u.name === 'bob')!;
    expect((await b.request('POST', '/login', { username: 'bob', password: bob.password })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
    expect(short.sweepIdle()).toBe(1);
    const ended = await events('user=bob&type=session_end');
    expect(ended.map((e) => e.reason)).toEqual(['idle_timeout']);
    expect((await b.request('GET', '/account')).status).toBe(401);
  } finally {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

test('a session an admin ends in Authwatch is refused by the demo app', async () => {
  const carol = DEMO_USERS.find((u) => u.name === 'carol')!;
  const b = new SimulatedBrowser(baseUrl, firefox, randomAddress(HOME_BLOCKS.US[0].cidr));
  expect((await b.request('POST', '/login', { username: 'carol', password: carol.password })).status).toBe(200);
  await client.flush();
  const listed = await collector.api<{ sessions: Array<{ id: string }> }>('GET', '/v1/sessions?state=active&user=carol', KEYS.read);
  expect(listed.body.sessions).toHaveLength(1);
  expect((await collector.api('POST', `/v1/users/carol/sessions/terminate`, KEYS.admin)).status).toBe(200);
  const refused = await b.request('GET', '/account');
  expect(refused.status).toBe(401);
  expect(refused.body).toEqual({ error: 'session_ended' });
  expect(b.hasCookie('demo_sid')).toBe(false);
});

test('Grafana alert notifications posted to the webhook are logged', async () => {
  const lines: string[] = [];
  const hooked = createDemoApp({ client, users: DEMO_USERS, log: (l) => lines.push(l) });
  const s = hooked.app.listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/hooks/grafana-alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'LockoutStorm' } }] }),
    });
    expect(res.status).toBe(204);
    expect(lines).toEqual(['grafana alert LockoutStorm: firing']);
  } finally {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

test('passwords and raw session ids never reach the collector store', async () => {
  const dave = DEMO_USERS.find((u) => u.name === 'dave')!;
  const b = new SimulatedBrowser(baseUrl, firefox, randomAddress(HOME_BLOCKS.FR[0].cidr));
  await b.request('POST', '/login', { username: 'dave', password: 'silver-canyon-85' });
  await b.request('POST', '/login', { username: 'dave', password: dave.password });
  await b.request('GET', '/account');
  await client.flush();
  const sessionId = b.cookie('demo_sid');
  expect(sessionId).toBeTruthy();
  // The session is known to the collector — under a keyed hash.
  expect(await client.isSessionEnded(sessionId!)).toBe(false);
  const db = readFileSync(collector.storeFile).toString('latin1') + readWal(collector.storeFile);
  expect(db).toContain('dave');
  for (const secret of [dave.password, 'silver-canyon-85', sessionId!]) expect(db.includes(secret)).toBe(false);
});

function readWal(file: string): string {
  try {
    return readFileSync(`${file}-wal`).toString('latin1');
  } catch {
    return '';
  }
}

test('the generator addresses are where the demo says: home ISPs in their countries', async () => {
  const blocks = [...Object.values(HOME_BLOCKS).flat(), TRAVEL_BLOCK, ATTACK_BLOCKS[0]];
  const sample = blocks.flatMap((b) => Array.from({ length: 5 }, () => ({ block: b, ip: randomAddress(b.cidr) })));
  client.report({ type: 'access', outcome: 'success', user: 'geo-probe', ip: '127.0.0.1' });
  for (const s of sample) client.report({ type: 'access', outcome: 'success', reason: 'api_request', user: 'geo-probe', ip: s.ip });
  const got = await events('user=geo-probe');
  const country = new Map(got.map((e) => [e.ip, e.country]));
  const wrong = sample.filter((s) => country.get(s.ip) !== s.block.country).map((s) => `${s.ip} (${s.block.isp}) → ${country.get(s.ip)}, expected ${s.block.country}`);
  expect(wrong).toEqual([]);
});
