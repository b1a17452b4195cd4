// Bad input gets a clear 4xx and nothing of the batch is stored.
import { startServer, type TestServer } from './helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s.stop(true);
});

const good = (i: number) => ({ id: `ok-${i}-${Math.random()}`, type: 'login', outcome: 'success', user: 'val-user' });
const stored = async () => (await s.get('/v1/events?user=val-user&limit=1')).body.total as number;
const rejectedCounter = async () => {
  const m = await s.req('GET', '/metrics', { key: null });
  const line = m.text.split('\n').find((l) => l.startsWith('authwatch_events_rejected_total'));
  return line ? Number(line.split(' ').pop()) : NaN;
};

async function expectRefused(opts: { body?: unknown; raw?: string; headers?: Record<string, string> }, status: number, message: RegExp) {
  const before = await stored();
  const r = await s.req('POST', '/v1/events', { key: 'ingest', ...opts });
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/application\/json/);
  expect(r.body.error).toMatch(message);
  expect(await stored()).toBe(before);
  return r.body;
}

test('malformed JSON → 400 saying so', async () => {
  await expectRefused({ raw: '[{"type":"login","user":"val-user"', headers: { 'content-type': 'application/json' } }, 400, /malformed JSON/);
});

test('a wrong field type names the batch index and field path', async () => {
  const body = await expectRefused({ body: [good(0), good(1), { type: 'login', user: 42 }] }, 400, /event 2: user/);
  expect(body.details).toEqual([expect.objectContaining({ index: 2, path: 'user' })]);
});

test('a missing user, a bad time, a bad ip and a non-snake_case reason each get a field message', async () => {
  const body = await expectRefused(
    { body: [good(0), { type: 'login' }, { type: 'login', user: 'val-user', time: 'last tuesday' }, { type: 'login', user: 'val-user', ip: '999.1.1.1' }, { type: 'login', user: 'val-user', reason: 'Bad Reason' }] },
    400,
    /invalid batch, nothing stored/,
  );
  expect(body.details).toEqual([
    { index: 1, path: 'user', message: '"user" is required' },
    { index: 2, path: 'time', message: expect.stringMatching(/RFC 3339/) },
    { index: 3, path: 'ip', message: expect.stringMatching(/not a valid IPv4 or IPv6/) },
    { index: 4, path: 'reason', message: expect.stringMatching(/snake_case/) },
  ]);
});

test('unknown and collector-only event types are refused', async () => {
  const a = await expectRefused({ body: [good(0), { type: 'teleport', user: 'val-user' }] }, 400, /unknown event type "teleport"/);
  expect(a.details[0]).toMatchObject({ index: 1, path: 'type' });
  await expectRefused({ body: { type: 'lockout', user: 'val-user' } }, 400, /written by the collector only/);
});

test('a password attribute (or field) is refused, and never stored', async () => {
  const a = await expectRefused({ body: [good(0), { ...good(1), attributes: { Password: 'hunter2' } }] }, 400, /looks like a password, secret or token/);
  expect(a.details[0]).toMatchObject({ index: 1, path: 'attributes.Password' });
  await expectRefused({ body: { ...good(2), api_key: 'x' } }, 400, /api_key/);
  await expectRefused({ body: { ...good(3), attributes: { refresh_token: 'x' } } }, 400, /refresh_token/);
  const ev = await s.get('/v1/events?q=hunter2');
  expect(ev.body.total).toBe(0);
});

test('unknown top-level properties, nested attributes and more than 32 attributes are refused', async () => {
  await expectRefused({ body: { ...good(0), colour: 'red' } }, 400, /unknown field "colour"/);
  await expectRefused({ body: { ...good(0), attributes: { nested: { a: 1 } } } }, 400, /attributes: must be a flat object/);
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  await expectRefused({ body: { ...good(0), attributes: many } }, 400, /at most 32/);
});

test('an oversized body → 413', async () => {
  const big = 'x'.repeat(1000);
  const body = Array.from({ length: 6000 }, (_, i) => ({ ...good(i), user_agent: big }));
  await expectRefused({ body }, 413, /over the 5 MB limit/);
});

test('more than 10,000 events → 400 naming the limit', async () => {
  await expectRefused({ body: Array.from({ length: 10_001 }, () => ({ type: 'login', user: 'val-user' })) }, 400, /over the limit of 10000/);
});

test('a non-JSON content type → 415', async () => {
  await expectRefused({ raw: 'type=login&user=val-user', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, /Content-Type must be application\/json/);
  await expectRefused({ raw: JSON.stringify(good(0)), headers: { 'content-type': 'text/plain' } }, 415, /application\/json/);
});

test('an empty batch and a non-object are refused', async () => {
  await expectRefused({ body: [] }, 400, /empty batch/);
  await expectRefused({ body: [good(0), 'login'] }, 400, /must be a JSON object/);
});

test('valid events still go in after all that, and refused batches were counted', async () => {
  const r = await s.post('/v1/events', [good(0), good(1)]);
  expect(r.body).toEqual({ accepted: 2, duplicates: 0 });
  expect(await stored()).toBe(2);
  const n = await rejectedCounter();
  console.log(`authwatch_events_rejected_total = ${n}`);
});
