import { dateTime, FieldType, type AnnotationQuery, type Field } from '@grafana/data';
import { DataSource } from './datasource';
import { fakeBackendSrv, type FakeAnswer } from './testing/fakeBackendSrv';
import { fakeTemplateSrv, type FakeVariable } from './testing/fakeTemplateSrv';
import { column, event, FROM, PROXY, range, request, settings, shape, TO } from './testing/fixtures';
import type { AuthwatchOptions, AuthwatchQuery } from './types';

let current: ReturnType<typeof fakeBackendSrv>;

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => current.backendSrv,
}));

function setup(
  routes: Record<string, FakeAnswer>,
  options: { jsonData?: AuthwatchOptions; variables?: FakeVariable[] } = {}
) {
  current = fakeBackendSrv(PROXY, routes);
  const ds = new DataSource(settings(options.jsonData), fakeTemplateSrv(options.variables));
  return { ds, requests: current.requests };
}

const EVENTS = { events: [event(), event({ id: 'e2', outcome: 'success', reason: null, time: FROM + 2000 })], total: 2, next_cursor: null };

describe('events query', () => {
  it('asks GET /v1/events through the read route with range, filters, limit and order', async () => {
    const { ds, requests } = setup(
      { 'GET /read/events': { data: EVENTS } },
      { variables: [{ name: 'users', value: ['alice', 'bob'] }] }
    );
    await ds.query(request([{ refId: 'A', queryType: 'events', user: '$users', outcome: 'failure', search: 'fire fox' }]));
    expect(requests).toHaveLength(1);
    const [r] = requests;
    expect(r.method).toBe('GET');
    expect(r.url.startsWith(`${PROXY}/read/events?`)).toBe(true);
    expect(r.params.get('from')).toBe(String(FROM));
    expect(r.params.get('to')).toBe(String(TO));
    expect(r.params.getAll('user')).toEqual(['alice', 'bob']);
    expect(r.params.get('outcome')).toBe('failure');
    expect(r.params.get('q')).toBe('fire fox');
    expect(r.params.get('limit')).toBe('500');
    expect(r.params.get('order')).toBe('desc');
    // Unset filters are not sent at all.
    expect(r.params.has('service')).toBe(false);
    expect(r.requestId).toBe('Q1-A');
  });

  it('returns a typed table frame without IP/ISP/location unless details are enabled', async () => {
    const { ds } = setup({ 'GET /read/events': { data: EVENTS } });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'events', format: 'table' }]));
    expect(data).toHaveLength(1);
    const frame = data[0];
    expect(frame.refId).toBe('A');
    expect(frame.length).toBe(2);
    expect(frame.meta?.preferredVisualisationType).toBe('table');
    const types = shape(frame);
    expect(types.time).toBe(FieldType.time);
    expect(types.user).toBe(FieldType.string);
    expect(types.country).toBe(FieldType.string);
    for (const hidden of ['ip', 'isp', 'city', 'asn', 'latitude', 'longitude']) {
      expect(types[hidden]).toBeUndefined();
    }
    expect(column(frame, 'time')).toEqual([FROM + 1000, FROM + 2000]);
    expect(column(frame, 'reason')).toEqual(['invalid_password', null]);
    expect(frame.fields.find((f: Field) => f.name === 'time')?.config.displayName).toBe('Time');
  });

  it('adds IP, ISP, ASN and city when the data source shows details', async () => {
    const { ds } = setup(
      { 'GET /read/events': { data: EVENTS } },
      { jsonData: { url: 'http://c', showDetails: true } }
    );
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'events' }]));
    const types = shape(data[0]);
    expect(types.ip).toBe(FieldType.string);
    expect(types.isp).toBe(FieldType.string);
    expect(types.asn).toBe(FieldType.number);
    expect(column(data[0], 'ip')).toEqual(['203.0.113.7', '203.0.113.7']);
  });

  it('says when more events matched than were returned', async () => {
    const { ds } = setup({ 'GET /read/events': { data: { ...EVENTS, total: 9000 } } });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'events' }]));
    expect(data[0].meta?.notices?.[0].text).toContain('2 of 9000');
  });

  it('returns a logs frame for Explore: time, line, level from outcome, labels', async () => {
    const lockout = event({ id: 'e3', type: 'lockout', outcome: null, reason: 'max_failed_attempts' });
    const { ds } = setup({ 'GET /read/events': { data: { events: [...EVENTS.events, lockout], total: 3, next_cursor: null } } });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'events', format: 'logs' }]));
    const frame = data[0];
    expect(frame.meta?.preferredVisualisationType).toBe('logs');
    expect(frame.meta?.custom?.frameType).toBe('LabeledTimeValues');
    expect(shape(frame)).toEqual({
      time: FieldType.time,
      body: FieldType.string,
      level: FieldType.string,
      id: FieldType.string,
      labels: FieldType.other,
    });
    expect(column(frame, 'level')).toEqual(['warning', 'info', 'error']);
    expect(column(frame, 'body')[0]).toBe('login failure invalid_password user=alice service=portal country=DE browser=Firefox os=Linux');
    expect(column(frame, 'labels')[0]).toEqual({
      type: 'login',
      user: 'alice',
      outcome: 'failure',
      reason: 'invalid_password',
      service: 'portal',
      country: 'DE',
      device_type: 'desktop',
    });
    // No IP in the line or labels without the detail toggle.
    expect(JSON.stringify(frame.fields.map((f: Field) => [...f.values]))).not.toContain('203.0.113.7');
  });
});

describe('sessions query', () => {
  const SESSIONS = {
    sessions: [
      {
        id: 's1',
        user: 'alice',
        ip: '203.0.113.7',
        country: 'DE',
        city: 'Berlin',
        browser: 'Firefox',
        os: 'Linux',
        device: null,
        device_type: 'desktop',
        service: 'portal',
        started_at: FROM,
        last_seen_at: FROM + 60_000,
        ended_at: FROM + 120_000,
        end_reason: 'terminated_by_admin',
        state: 'ended',
      },
    ],
  };

  it('asks for active sessions without a time range, ended ones within the range', async () => {
    const { ds, requests } = setup({ 'GET /read/sessions': { data: { sessions: [] } } });
    await ds.query(request([{ refId: 'A', queryType: 'sessions', user: 'alice' }]));
    expect(Object.fromEntries(requests[0].params)).toEqual({ state: 'active', user: 'alice', limit: '500' });
    await ds.query(request([{ refId: 'A', queryType: 'sessions', sessionState: 'ended' }]));
    expect(Object.fromEntries(requests[1].params)).toEqual({ state: 'ended', from: String(FROM), to: String(TO), limit: '500' });
  });

  it('returns times as time fields and the session duration in ms', async () => {
    const { ds } = setup({ 'GET /read/sessions': { data: SESSIONS } });
    const { data } = await ds.query(request([{ refId: 'B', queryType: 'sessions', sessionState: 'all' }]));
    const types = shape(data[0]);
    expect(types.started_at).toBe(FieldType.time);
    expect(types.last_seen_at).toBe(FieldType.time);
    expect(types.ended_at).toBe(FieldType.time);
    expect(types.duration).toBe(FieldType.number);
    expect(types.ip).toBeUndefined();
    expect(column(data[0], 'duration')).toEqual([120_000]);
    expect(data[0].fields.find((f: Field) => f.name === 'duration')?.config.unit).toBe('ms');
    expect(column(data[0], 'end_reason')).toEqual(['terminated_by_admin']);
  });
});

describe('lockouts query', () => {
  it('asks GET /v1/lockouts with the state and marks locks without an end as permanent', async () => {
    const { ds, requests } = setup({
      'GET /read/lockouts': {
        data: {
          lockouts: [
            { user: 'alice', scope: 'user', ip: null, failures: 6, locked_at: FROM, locked_until: FROM + 900_000, reason: 'max_failed_attempts' },
            { user: null, scope: 'ip', ip: '198.51.100.9', failures: 21, locked_at: FROM, locked_until: null, reason: 'ip_max_failed_attempts' },
          ],
        },
      },
    });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'lockouts', lockoutState: 'all' }]));
    expect(Object.fromEntries(requests[0].params)).toEqual({ state: 'all' });
    expect(shape(data[0])).toMatchObject({
      user: FieldType.string,
      scope: FieldType.string,
      ip: FieldType.string,
      failures: FieldType.number,
      locked_at: FieldType.time,
      locked_until: FieldType.time,
      permanent: FieldType.boolean,
    });
    expect(column(data[0], 'permanent')).toEqual([false, true]);
    expect(column(data[0], 'ip')).toEqual([null, '198.51.100.9']);
  });
});

describe('time series query', () => {
  it('sends the panel interval as interval_ms and the grouping', async () => {
    const { ds, requests } = setup({ 'GET /read/timeseries': { data: { interval_ms: 30_000, series: [] } } });
    await ds.query(request([{ refId: 'A', queryType: 'timeseries', groupBy: 'reason', outcome: 'failure' }], 30_000));
    expect(Object.fromEntries(requests[0].params)).toEqual({
      from: String(FROM),
      to: String(TO),
      interval_ms: '30000',
      group_by: 'reason',
      outcome: 'failure',
    });
  });

  it('widens a too-fine interval so the collector bucket limit is never hit', async () => {
    const { ds, requests } = setup({ 'GET /read/timeseries': { data: { interval_ms: 1000, series: [] } } });
    const wide = request([{ refId: 'A', queryType: 'timeseries' }], 1000);
    const from = dateTime(TO - 90 * 86_400_000);
    wide.range = { from, to: dateTime(TO), raw: { from, to: dateTime(TO) } };
    await ds.query(wide);
    const interval = Number(requests[0].params.get('interval_ms'));
    expect((90 * 86_400_000) / interval).toBeLessThanOrEqual(10_000);
    expect(interval % 1000).toBe(0);
  });

  it('returns one time/number frame per series with the key as a label', async () => {
    const { ds } = setup({
      'GET /read/timeseries': {
        data: {
          interval_ms: 60_000,
          series: [
            { key: 'failure', points: [[FROM, 3], [FROM + 60_000, 0]] },
            { key: 'success', points: [[FROM, 10], [FROM + 60_000, 12]] },
          ],
        },
      },
    });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'timeseries', groupBy: 'outcome' }]));
    expect(data).toHaveLength(2);
    expect(data.map((f: Field) => f.name)).toEqual(['failure', 'success']);
    expect(shape(data[0])).toEqual({ time: FieldType.time, count: FieldType.number });
    expect(data[0].fields[1].labels).toEqual({ outcome: 'failure' });
    expect(column(data[1], 'count')).toEqual([10, 12]);
  });
});

describe('stats query', () => {
  const STATS = { logins: 120, failures: 30, failure_ratio: 0.2, active_sessions: 7, locked_accounts: 2, unique_users: 40 };

  it('returns one number field per stat, the failure ratio as percentunit', async () => {
    const { ds, requests } = setup({ 'GET /read/stats': { data: STATS } });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'stats', service: 'portal' }]));
    expect(Object.fromEntries(requests[0].params)).toEqual({ from: String(FROM), to: String(TO), service: 'portal' });
    const frame = data[0];
    expect(frame.fields.map((f: Field) => f.name)).toEqual([
      'logins',
      'failures',
      'failure_ratio',
      'active_sessions',
      'locked_accounts',
      'unique_users',
    ]);
    expect(frame.fields.every((f: Field) => f.type === FieldType.number)).toBe(true);
    const ratio = frame.fields.find((f: Field) => f.name === 'failure_ratio');
    expect(ratio?.config.unit).toBe('percentunit');
    expect([...(ratio?.values ?? [])]).toEqual([0.2]);
    expect(frame.fields[0].config.displayName).toBe('Logins');
  });

  it('returns only the chosen stats', async () => {
    const { ds } = setup({ 'GET /read/stats': { data: STATS } });
    const { data } = await ds.query(request([{ refId: 'A', queryType: 'stats', stats: ['failures', 'locked_accounts'] }]));
    expect(data[0].fields.map((f: Field) => f.name)).toEqual(['failures', 'locked_accounts']);
  });
});

describe('annotations', () => {
  it('forces the annotations query type on annotation targets', () => {
    const { ds } = setup({});
    const prepared = ds.annotations?.prepareAnnotation?.({
      name: 'Lockouts',
      enable: true,
      iconColor: 'red',
      target: { refId: 'Anno', queryType: 'events', user: 'alice' },
    } as AnnotationQuery<AuthwatchQuery>);
    expect(prepared?.target).toEqual({ refId: 'Anno', queryType: 'annotations', user: 'alice' });
  });

  it('loads lockout, unlock and admin events by default as time/title/text/tags', async () => {
    const { ds, requests } = setup({
      'GET /read/events': {
        data: {
          events: [
            event({ id: 'l1', type: 'lockout', outcome: null, reason: 'max_failed_attempts' }),
            event({ id: 'u1', type: 'unlock', outcome: null, reason: null, actor: 'ops-admin' }),
          ],
          total: 2,
          next_cursor: null,
        },
      },
    });
    const { data } = await ds.query(request([{ refId: 'Anno', queryType: 'annotations' }]));
    expect(requests[0].params.get('type')).toBe('lockout,unlock,admin');
    expect(shape(data[0])).toEqual({ time: FieldType.time, title: FieldType.string, text: FieldType.string, tags: FieldType.other });
    expect(column(data[0], 'title')).toEqual(['Locked: alice (max_failed_attempts)', 'Unlocked: alice by ops-admin']);
    expect(column(data[0], 'tags')[0]).toEqual(['lockout', 'max_failed_attempts', 'portal']);
  });

  it('uses the annotation query type filter when one is set', async () => {
    const { ds, requests } = setup({ 'GET /read/events': { data: { events: [], total: 0, next_cursor: null } } });
    await ds.query(request([{ refId: 'Anno', queryType: 'annotations', eventType: 'detection' }]));
    expect(requests[0].params.get('type')).toBe('detection');
  });
});

describe('query errors', () => {
  it('reports a failing target by refId and still returns the others', async () => {
    const { ds } = setup({
      'GET /read/events': { data: EVENTS },
      'GET /read/stats': { status: 502, data: { message: 'Bad Gateway' } },
    });
    const res = await ds.query(
      request([
        { refId: 'A', queryType: 'events' },
        { refId: 'B', queryType: 'stats' },
      ])
    );
    expect(res.data).toHaveLength(1);
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0].refId).toBe('B');
    expect(res.errors?.[0].message).toMatch(/unreachable/);
  });

  it('skips hidden targets', async () => {
    const { ds, requests } = setup({ 'GET /read/events': { data: EVENTS } });
    const res = await ds.query(request([{ refId: 'A', queryType: 'events', hide: true }]));
    expect(res.data).toEqual([]);
    expect(requests).toHaveLength(0);
  });
});

describe('template variables', () => {
  it('loads values of a field within the dashboard range, with optional search text', async () => {
    const { ds, requests } = setup({ 'GET /read/values/user': { data: { values: ['alice', 'bob'] } } });
    const values = await ds.metricFindQuery('user al', { range: range() });
    expect(values).toEqual([
      { text: 'alice', value: 'alice' },
      { text: 'bob', value: 'bob' },
    ]);
    expect(Object.fromEntries(requests[0].params)).toEqual({ from: String(FROM), to: String(TO), q: 'al', limit: '1000' });
  });

  it('refuses a field the collector does not list', async () => {
    const { ds, requests } = setup({});
    await expect(ds.metricFindQuery('password')).rejects.toThrow(/must start with one of: user, service/);
    expect(requests).toHaveLength(0);
  });
});

describe('interpolateVariablesInQueries (Open in Explore)', () => {
  it('resolves variables into plain filters: multi as a comma list, All as no filter', () => {
    const { ds } = setup(
      {},
      {
        variables: [
          { name: 'users', value: ['alice', 'bob'] },
          { name: 'service', value: '$__all', options: ['portal', 'api'] },
        ],
      }
    );
    const [q] = ds.interpolateVariablesInQueries(
      [{ refId: 'A', queryType: 'events', format: 'logs', user: '$users', service: '$service', reason: 'invalid_password' }],
      {}
    );
    expect(q).toEqual({ refId: 'A', queryType: 'events', format: 'logs', user: 'alice,bob', service: undefined, reason: 'invalid_password' });
  });
});

describe('testDatasource', () => {
  it('succeeds with the key role from /v1/whoami', async () => {
    const { ds, requests } = setup({ 'GET /read/whoami': { data: { role: 'read', key: 'grafana' } } });
    const result = await ds.testDatasource();
    expect(result.status).toBe('success');
    expect(result.message).toContain('role read');
    expect(requests[0].url).toBe(`${PROXY}/read/whoami`);
  });

  it('rejects a key whose role cannot read', async () => {
    const { ds } = setup({ 'GET /read/whoami': { data: { role: 'ingest', key: 'app' } } });
    const result = await ds.testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^Key rejected: .*role ingest/);
  });

  it.each([
    ['a 502 from the proxy', { status: 502, data: { message: 'Bad Gateway' } }],
    ['a network failure', { networkError: 'Failed to fetch' }],
  ])('says "unreachable" on %s', async (_label, answer) => {
    const { ds } = setup({ 'GET /read/whoami': answer as FakeAnswer });
    const result = await ds.testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^Collector unreachable/);
  });

  it.each([
    ['401 from the collector', { status: 401, data: { error: 'invalid API key' } }],
    ['the proxy rewriting 401 to 400', { status: 400, data: 'Authentication to data source failed' }],
    ['403 wrong role', { status: 403, data: { error: 'this key has role ingest' } }],
  ])('says "key rejected" on %s', async (_label, answer) => {
    const { ds } = setup({ 'GET /read/whoami': answer as FakeAnswer });
    const result = await ds.testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^Key rejected/);
  });

  it('asks for the URL before calling anything', async () => {
    const { ds, requests } = setup({}, { jsonData: {} });
    const result = await ds.testDatasource();
    expect(result).toEqual({ status: 'error', message: expect.stringContaining('collector URL') });
    expect(requests).toHaveLength(0);
  });
});

describe('actions', () => {
  it('terminates a session with POST through the admin route, id escaped', async () => {
    const { ds, requests } = setup({ 'POST /admin/sessions/a%2Fb/terminate': { data: { terminated: 1 } } });
    await expect(ds.terminateSession('a/b')).resolves.toBeUndefined();
    expect(requests[0].method).toBe('POST');
    expect(requests[0].url).toBe(`${PROXY}/admin/sessions/a%2Fb/terminate`);
  });

  it.each(['.', '..', ''])('refuses a session id or user %j that would change the URL path, before any request', async (bad) => {
    const { ds, requests } = setup({});
    await expect(ds.terminateSession(bad)).rejects.toThrow(/cannot be used in an action URL/);
    await expect(ds.unlockUser(bad)).rejects.toThrow(/cannot be used in an action URL/);
    expect(requests).toHaveLength(0);
  });

  it('returns the counts the collector reports', async () => {
    const { ds } = setup({
      'POST /admin/users/alice/sessions/terminate': { data: { terminated: 3 } },
      'POST /admin/users/alice/unlock': { data: { unlocked: 2 } },
      'POST /admin/ips/198.51.100.9/unlock': { data: { unlocked: 1 } },
    });
    await expect(ds.terminateUserSessions('alice')).resolves.toBe(3);
    await expect(ds.unlockUser('alice')).resolves.toBe(2);
    await expect(ds.unlockIp('198.51.100.9')).resolves.toBe(1);
  });

  it('explains a 403 from Grafana (role below Editor)', async () => {
    const { ds } = setup({ 'POST /admin/users/alice/unlock': { status: 403, data: { message: 'plugin proxy route access denied' } } });
    await expect(ds.unlockUser('alice')).rejects.toThrow(/needs the Grafana Editor or Admin role/);
  });

  it('explains a 403 from the collector (key without the admin role)', async () => {
    const { ds } = setup({ 'POST /admin/sessions/s1/terminate': { status: 403, data: { error: 'admin role required' } } });
    await expect(ds.terminateSession('s1')).rejects.toThrow(/collector key lacks the needed role: admin role required/);
  });

  it('says unreachable when the collector is down', async () => {
    const { ds } = setup({ 'POST /admin/users/bob/sessions/terminate': { status: 502, data: {} } });
    await expect(ds.terminateUserSessions('bob')).rejects.toThrow(/unreachable/);
  });

  it('builds the CSV download URL with the query filters and range, without paging', () => {
    const { ds } = setup({}, { variables: [{ name: 'svc', value: ['portal', 'api'] }] });
    const url = ds.csvUrl({ refId: 'A', queryType: 'events', service: '$svc', outcome: 'failure', limit: 50 }, range());
    expect(url.startsWith(`${PROXY}/read/events.csv?`)).toBe(true);
    const params = new URL(url, 'http://grafana.test').searchParams;
    expect(params.getAll('service')).toEqual(['portal', 'api']);
    expect(params.get('outcome')).toBe('failure');
    expect(params.get('from')).toBe(String(FROM));
    expect(params.has('limit')).toBe(false);
  });
});
