// A 1,000-event batch in, every event back out through GET /v1/events with filters and keyset
// pagination; restart on the same SQLite file keeps everything; re-posted ids are duplicates.
import { startServer, type TestServer } from './helpers/server';

const USERS = ['alice', 'bob', 'carol', 'dave'];
const SERVICES = ['portal', 'api', 'sftp'];
const base = Date.parse('2026-03-01T00:00:00Z');

function batch(): Record<string, unknown>[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    id: `evt-${i}`,
    time: base + i * 1000,
    type: i % 10 === 0 ? 'access' : 'login',
    outcome: i % 10 === 0 ? 'success' : i % 3 === 0 ? 'failure' : 'success',
    reason: i % 10 === 0 ? 'report_download' : i % 3 === 0 ? 'invalid_password' : null,
    user: USERS[i % 4],
    email: `${USERS[i % 4]}@example.com`,
    ip: `198.51.100.${i % 50}`,
    service: SERVICES[i % 3],
    user_agent: i % 2 ? 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' : 'curl/8.5.0',
    attributes: { seq: i, even: i % 2 === 0 },
  }));
}

let s: TestServer;
const sent = batch();
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s.stop(true);
});

async function all(query: string): Promise<{ events: any[]; totals: number[]; pages: number }> {
  const events: any[] = [];
  const totals: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r: any = await s.get(`/v1/events?${query}&limit=137${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    events.push(...r.body.events);
    totals.push(r.body.total);
    cursor = r.body.next_cursor;
    pages++;
  } while (cursor);
  return { events, totals, pages };
}

test('a batch of 1,000 events is accepted and every event comes back', async () => {
  const t = process.hrtime.bigint();
  const r = await s.post('/v1/events', sent);
  console.log(`1,000-event batch through the full pipeline: ${Number(process.hrtime.bigint() - t) / 1e6} ms`);
  expect(r.status).toBe(202);
  expect(r.body).toEqual({ accepted: 1000, duplicates: 0 });

  // type=login,access: the failures in this data also make the lockout engine write lockout events.
  const { events, totals, pages } = await all(`type=login,access&from=${base}&to=${base + 1_000_000}`);
  expect(pages).toBe(Math.ceil(1000 / 137));
  expect(totals.every((n) => n === 1000)).toBe(true);
  expect(events).toHaveLength(1000);
  // Newest first, no duplicates across pages.
  expect(events.map((e) => e.id)).toEqual(sent.map((e) => e.id).reverse());
  const byId = new Map(events.map((e) => [e.id, e]));
  for (const e of sent) {
    const got = byId.get(e.id as string);
    expect(got).toMatchObject({ user: e.user, type: e.type, outcome: e.outcome, reason: e.reason, ip: e.ip, service: e.service, time: e.time, attributes: e.attributes });
  }
});

test('filters: single, repeated and comma-separated values, free text, time range, ascending order', async () => {
  const count = (pred: (e: Record<string, unknown>) => boolean) => sent.filter(pred).length;
  const total = async (q: string) =>
    (await s.get(`/v1/events?${q}${q.includes('type=') ? '' : '&type=login,access'}${q.includes('from=') ? '' : `&from=${base}`}&limit=1`)).body.total;
  expect(await total('user=alice')).toBe(count((e) => e.user === 'alice'));
  expect(await total('user=alice&user=bob')).toBe(count((e) => e.user === 'alice' || e.user === 'bob'));
  expect(await total('user=alice,bob&outcome=failure')).toBe(count((e) => (e.user === 'alice' || e.user === 'bob') && e.outcome === 'failure'));
  expect(await total('type=access')).toBe(100);
  expect(await total('reason=invalid_password&service=api')).toBe(count((e) => e.reason === 'invalid_password' && e.service === 'api'));
  expect(await total('ip=198.51.100.7')).toBe(20);
  expect(await total('q=CAROL@example')).toBe(250);
  expect(await total('q=firefox')).toBe(500);
  expect(await total(`to=${base + 10_000}`)).toBe(10);
  expect(await total(`from=${new Date(base + 990_000).toISOString()}`)).toBe(10);

  const { events } = await all(`user=dave&type=login&type=access&order=asc&from=${base}`);
  expect(events.map((e) => e.id)).toEqual(sent.filter((e) => e.user === 'dave').map((e) => e.id));
});

test('bad query parameters are 400 with a clear message', async () => {
  expect((await s.get('/v1/events?limit=5000')).body.error).toMatch(/limit/);
  expect((await s.get('/v1/events?from=yesterday')).body.error).toMatch(/from must be epoch milliseconds or an RFC 3339/);
  expect((await s.get('/v1/events?cursor=garbage')).status).toBe(400);
  expect((await s.get('/v1/events?order=sideways')).status).toBe(400);
});

test('re-posting the same ids reports duplicates and stores nothing twice', async () => {
  const r = await s.post('/v1/events', sent.slice(0, 300));
  expect(r.body).toEqual({ accepted: 0, duplicates: 300 });
  const mixed = await s.post('/v1/events', [...sent.slice(0, 2), { id: 'evt-new', user: 'erin', type: 'login', outcome: 'success', time: base + 5 }, { id: 'evt-new', user: 'erin', type: 'login', outcome: 'success' }]);
  expect(mixed.body).toEqual({ accepted: 1, duplicates: 3 });
  expect((await s.get(`/v1/events?type=login,access&from=${base}&limit=1`)).body.total).toBe(1001);
});

test('restart on the same SQLite file keeps everything', async () => {
  const before = (await s.get(`/v1/events?from=${base}&limit=1000`)).body;
  const dir = s.dir;
  await s.stop(false);
  s = await startServer({ dir });
  const after = (await s.get(`/v1/events?from=${base}&limit=1000`)).body;
  expect(after.total).toBe(before.total);
  expect(after.events).toEqual(before.events);
  expect((await s.post('/v1/events', sent.slice(500, 510))).body).toEqual({ accepted: 0, duplicates: 10 });
});
