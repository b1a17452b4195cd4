// /v1/timeseries, /v1/stats and /v1/values on a known data set: shapes and exact numbers.
import { ev, startServer, type TestServer } from './helpers/server';

const H = 3_600_000;
const base = Date.parse('2026-01-01T00:00:00Z');
let s: TestServer;

beforeAll(async () => {
  s = await startServer();
  const at = (h: number, m: number) => base + h * H + m * 60_000;
  const r = await s.post('/v1/events', [
    ev({ time: at(0, 1), user: 'alice', service: 'portal' }),
    ev({ time: at(0, 2), user: 'bob', service: 'portal' }),
    ev({ time: at(0, 3), user: 'carol', service: 'portal' }),
    ev({ time: at(0, 4), user: 'alice', service: 'portal', outcome: 'failure', reason: 'invalid_password' }),
    ev({ time: at(0, 5), user: 'alice', service: 'portal', outcome: 'failure', reason: 'invalid_password' }),
    ev({ time: at(1, 10), user: 'dave', service: 'api', outcome: 'failure', reason: 'invalid_user' }),
    ev({ time: at(1, 20), user: 'alice', service: 'portal', type: 'access', reason: 'report_download' }),
    ev({ time: at(3, 0), user: 'alice', service: 'api', session_id: 'alice-api' }),
    ev({ time: at(3, 1), user: 'alice', service: 'api' }),
    ev({ time: at(3, 2), user: 'erin', service: 'api' }),
    ev({ time: at(3, 59), user: 'frank', service: 'api' }),
    // Outside the range used below.
    ev({ time: at(5, 0), user: 'zoe', service: 'api', outcome: 'failure', reason: 'invalid_password' }),
  ]);
  expect(r.body).toEqual({ accepted: 12, duplicates: 0 });
});
afterAll(async () => {
  await s.stop(true);
});

const range = `from=${base}&to=${base + 4 * H}`;
const b = (h: number) => base + h * H;

test('timeseries grouped by outcome: aligned buckets, zero-filled, sorted keys', async () => {
  const r = await s.get(`/v1/timeseries?${range}&interval_ms=${H}&group_by=outcome`);
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    interval_ms: H,
    series: [
      { key: 'failure', points: [[b(0), 2], [b(1), 1], [b(2), 0], [b(3), 0]] },
      { key: 'success', points: [[b(0), 3], [b(1), 1], [b(2), 0], [b(3), 4]] },
    ],
  });
});

test('timeseries by type, by reason with a filter, and ungrouped', async () => {
  const byType = (await s.get(`/v1/timeseries?${range}&interval_ms=${H}&group_by=type`)).body.series;
  expect(byType).toEqual([
    { key: 'access', points: [[b(0), 0], [b(1), 1], [b(2), 0], [b(3), 0]] },
    { key: 'login', points: [[b(0), 5], [b(1), 1], [b(2), 0], [b(3), 4]] },
  ]);
  const byReason = (await s.get(`/v1/timeseries?${range}&interval_ms=${H}&group_by=reason&type=login`)).body.series;
  expect(byReason).toEqual([
    { key: 'invalid_password', points: [[b(0), 2], [b(1), 0], [b(2), 0], [b(3), 0]] },
    { key: 'invalid_user', points: [[b(0), 0], [b(1), 1], [b(2), 0], [b(3), 0]] },
    { key: 'unknown', points: [[b(0), 3], [b(1), 0], [b(2), 0], [b(3), 4]] },
  ]);
  const total = (await s.get(`/v1/timeseries?${range}&interval_ms=${H}&service=api`)).body;
  expect(total).toEqual({ interval_ms: H, series: [{ key: 'total', points: [[b(0), 0], [b(1), 1], [b(2), 0], [b(3), 4]] }] });
});

test('timeseries buckets align to multiples of interval_ms even when from does not', async () => {
  const r = (await s.get(`/v1/timeseries?from=${base + 30 * 60_000}&to=${base + 2 * H}&interval_ms=${H}&group_by=service`)).body;
  expect(r.series).toEqual([
    { key: 'api', points: [[b(0), 0], [b(1), 1]] },
    { key: 'portal', points: [[b(0), 0], [b(1), 1]] },
  ]);
});

test('timeseries refuses more than 11,000 buckets and bad group_by', async () => {
  const tooMany = await s.get(`/v1/timeseries?from=0&to=11001&interval_ms=1`);
  expect(tooMany.status).toBe(400);
  expect(tooMany.body.error).toMatch(/11001 buckets requested, the limit is 11000/);
  expect((await s.get(`/v1/timeseries?from=0&to=11000&interval_ms=1`)).status).toBe(200);
  expect((await s.get(`/v1/timeseries?${range}&group_by=user`)).status).toBe(400);
});

test('stats: logins and failures are login events by outcome; ratio; sessions; unique users', async () => {
  expect((await s.get(`/v1/stats?${range}`)).body).toEqual({
    logins: 7,
    failures: 3,
    failure_ratio: 0.3,
    active_sessions: 1,
    locked_accounts: 0,
    unique_users: 6,
  });
  expect((await s.get(`/v1/stats?${range}&service=api`)).body).toMatchObject({ logins: 4, failures: 1, failure_ratio: 0.2, unique_users: 4 });
  expect((await s.get(`/v1/stats?from=${b(2)}&to=${b(3)}`)).body).toMatchObject({ logins: 0, failures: 0, failure_ratio: 0, unique_users: 0 });
});

test('values: distinct, sorted, searchable, limited, validated field', async () => {
  const v = async (q: string) => (await s.get(`/v1/values/${q}`)).body;
  expect(await v(`user?${range}`)).toEqual({ values: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'] });
  expect(await v('user')).toEqual({ values: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'zoe'] });
  expect(await v('user?q=AR')).toEqual({ values: ['carol'] });
  expect(await v('user?limit=2')).toEqual({ values: ['alice', 'bob'] });
  expect(await v('service')).toEqual({ values: ['api', 'portal'] });
  expect(await v('type')).toEqual({ values: ['access', 'login'] });
  expect(await v('outcome')).toEqual({ values: ['failure', 'success'] });
  expect(await v(`reason?${range}`)).toEqual({ values: ['invalid_password', 'invalid_user', 'report_download'] });
  const bad = await s.get('/v1/values/password');
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatch(/field must be one of/);
});
