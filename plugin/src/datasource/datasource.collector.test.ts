// The data source against the real collector (real HTTP, real SQLite), through a stand-in for
// Grafana's data source proxy that applies this plugin's plugin.json routes.
import { dateTime, FieldType, type DataFrame, type Field } from '@grafana/data';
import { DataSource } from './datasource';
import { startCollector, KEYS, type Collector } from './testing/collector';
import { fakeTemplateSrv } from './testing/fakeTemplateSrv';
import { grafanaProxyFetch, type OrgRole } from './testing/grafanaProxy';
import { http } from './testing/http';
import { PROXY, request, settings } from './testing/fixtures';
import type { AuthwatchOptions } from './types';

let backend: ReturnType<typeof grafanaProxyFetch>;

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => backend,
}));

jest.setTimeout(60_000);

let collector: Collector;
const now = Date.now();
const range = () => {
  const from = dateTime(now - 3_600_000);
  const to = dateTime(now + 60_000);
  return { from, to, raw: { from, to } };
};

function dataSource(
  opts: { role?: OrgRole; login?: string; readKey?: string; url?: string; jsonData?: Partial<AuthwatchOptions>; sendUserHeader?: boolean } = {}
) {
  const jsonData: AuthwatchOptions = { url: opts.url ?? collector.url, ...opts.jsonData };
  backend = grafanaProxyFetch(
    { uid: 'aw1', jsonData: { ...jsonData }, secureJsonData: { readKey: opts.readKey ?? KEYS.read, adminKey: KEYS.admin } },
    { login: opts.login ?? 'ops', role: opts.role ?? 'Editor' },
    opts.sendUserHeader
  );
  return new DataSource(settings(jsonData), fakeTemplateSrv([{ name: 'users', value: ['alice', 'bob'] }]));
}

function values(frame: DataFrame, name: string): unknown[] {
  const field = frame.fields.find((f: Field) => f.name === name);
  if (!field) {
    throw new Error(`no field ${name}`);
  }
  return [...field.values];
}

async function run(ds: DataSource, target: Parameters<typeof request>[0][number], intervalMs = 60_000) {
  const req = request([target], intervalMs);
  req.range = range();
  const res = await ds.query(req);
  if (res.errors?.length) {
    throw new Error(res.errors.map((e) => e.message).join('; '));
  }
  return res.data as DataFrame[];
}

beforeAll(async () => {
  collector = await startCollector();
  // Recent: locks (15 min) and sessions (idle timeout) must still be active when the tests run.
  const t = (s: number) => now - 120_000 + s * 1000;
  await collector.ingest([
    { id: 'a1', time: t(1), type: 'login', outcome: 'success', user: 'alice', session_id: 'sess-alice-1', ip: '198.51.100.10', service: 'portal' },
    { id: 'b1', time: t(2), type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'bob', ip: '198.51.100.11', service: 'portal' },
    { id: 'c1', time: t(3), type: 'login', outcome: 'success', user: 'carol', ip: '198.51.100.12', service: 'api' },
    // Six failures: the sixth locks mallory (max_failed_attempts 5).
    ...[1, 2, 3, 4, 5, 6].map((i) => ({
      id: `m${i}`,
      time: t(10 + i),
      type: 'login',
      outcome: 'failure',
      reason: 'invalid_password',
      user: 'mallory',
      ip: '203.0.113.50',
      service: 'portal',
    })),
  ]);
});

afterAll(async () => {
  await collector?.stop();
});

describe('against a live collector', () => {
  it('test connection: success with the read key, "key rejected" with a wrong one, "unreachable" when down', async () => {
    expect(await dataSource().testDatasource()).toMatchObject({ status: 'success', message: expect.stringContaining('role read') });
    expect(await dataSource({ readKey: 'wrong' }).testDatasource()).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^Key rejected/),
    });
    expect(await dataSource({ readKey: KEYS.ingest }).testDatasource()).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^Key rejected.*role ingest/),
    });
    // A port nothing listens on: the proxy cannot connect.
    expect(await dataSource({ url: 'http://127.0.0.1:9' }).testDatasource()).toMatchObject({
      status: 'error',
      message: expect.stringMatching(/^Collector unreachable/),
    });
  });

  it('events with a multi-value variable return exactly those users, typed', async () => {
    const [frame] = await run(dataSource(), { refId: 'A', queryType: 'events', eventType: 'login', user: '$users' });
    expect(new Set(values(frame, 'user'))).toEqual(new Set(['alice', 'bob']));
    expect(frame.fields.find((f: Field) => f.name === 'time')?.type).toBe(FieldType.time);
  });

  it('lockouts and the lockout annotation show mallory; unlocking adds an unlock annotation', async () => {
    const ds = dataSource();
    const [locks] = await run(ds, { refId: 'A', queryType: 'lockouts' });
    expect(values(locks, 'user')).toContain('mallory');

    const [before] = await run(ds, { refId: 'Anno', queryType: 'annotations' });
    expect(values(before, 'title')).toContain('Locked: mallory (too_many_failures)');

    await expect(ds.unlockUser('mallory')).resolves.toBeGreaterThanOrEqual(1);
    const [after] = await run(ds, { refId: 'A', queryType: 'lockouts' });
    expect(values(after, 'user')).not.toContain('mallory');
    const [annotations] = await run(ds, { refId: 'Anno', queryType: 'annotations' });
    expect(values(annotations, 'title').some((t) => String(t).startsWith('Unlocked: mallory'))).toBe(true);
  });

  it('a Viewer cannot act: Grafana refuses the admin route and the message says why', async () => {
    await expect(dataSource({ role: 'Viewer' }).terminateUserSessions('alice')).rejects.toThrow(/Editor or Admin role/);
  });

  it.each(['Viewer', 'Editor'] as const)('a %s calling PUT admin/policy through the route proxy is refused; the policy stays', async (role) => {
    dataSource({ role });
    const before = await http('GET', `${collector.url}/v1/policy`, { authorization: `Bearer ${KEYS.read}` });
    const call = backend.fetch({ url: `${PROXY}/admin/policy`, method: 'PUT', data: { max_failed_attempts: 1000 } });
    const failure = await new Promise<{ status: number }>((resolve, reject) =>
      call.subscribe({ next: () => reject(new Error('PUT admin/policy went through')), error: resolve })
    );
    // No route matches PUT admin/policy; Grafana forwards it to the data source's own (empty) URL: 502.
    expect(failure.status).toBe(502);
    const after = await http('GET', `${collector.url}/v1/policy`, { authorization: `Bearer ${KEYS.read}` });
    expect(after.text).toBe(before.text);
  });

  it('ends a user’s sessions with the admin key', async () => {
    const ds = dataSource();
    const [active] = await run(ds, { refId: 'A', queryType: 'sessions', user: 'alice' });
    expect(values(active, 'user')).toEqual(['alice']);
    await expect(ds.terminateUserSessions('alice')).resolves.toBe(1);
    const [after] = await run(ds, { refId: 'A', queryType: 'sessions', user: 'alice' });
    expect(after.length).toBe(0);
  });

  it('variable values, time series and stats agree with what was ingested', async () => {
    const ds = dataSource();
    const users = (await ds.metricFindQuery('user', { range: range() })).map((v) => v.text);
    expect(users).toEqual(expect.arrayContaining(['alice', 'bob', 'carol', 'mallory']));

    const series = await run(ds, { refId: 'A', queryType: 'timeseries', groupBy: 'reason', eventType: 'login', outcome: 'failure' });
    const total = series.flatMap((f) => values(f, 'count') as number[]).reduce((a, b) => a + b, 0);
    expect(total).toBe(7);
    expect(series.map((f) => f.fields[1].labels?.reason)).toEqual(['invalid_password']);

    const [stats] = await run(ds, { refId: 'A', queryType: 'stats', stats: ['failures', 'failure_ratio'] });
    expect(values(stats, 'failures')).toEqual([7]);
    expect(values(stats, 'failure_ratio')[0]).toBeCloseTo(7 / 9, 5);
  });

  it('self view: a viewer sees only their own events', async () => {
    const ds = dataSource({ role: 'Viewer', login: 'bob', jsonData: { selfView: true }, sendUserHeader: true });
    const [frame] = await run(ds, { refId: 'A', queryType: 'events' });
    expect(frame.length).toBeGreaterThan(0);
    expect(new Set(values(frame, 'user'))).toEqual(new Set(['bob']));
  });

  it('the CSV link downloads the filtered events through the read route', async () => {
    const ds = dataSource();
    const url = ds.csvUrl({ refId: 'A', queryType: 'events', user: 'carol' }, range());
    expect(url.startsWith(`${PROXY}/read/events.csv?`)).toBe(true);
    const target = `${collector.url}/v1${url.slice(`${PROXY}/read`.length)}`;
    const res = await http('GET', target, { authorization: `Bearer ${KEYS.read}` });
    expect(res.status).toBe(200);
    const lines = res.text.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/user/);
    expect(lines.slice(1).every((l) => l.includes('carol'))).toBe(true);
    expect(lines.length).toBe(2);
  });
});
