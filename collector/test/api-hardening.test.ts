// API hardening (issue 12) against a real collector (composition root, express, real HTTP) on the
// SQLite store and on PostgreSQL: poisoned query values answer 400 naming the parameter, unknown
// parameters and unknown enumeration values are refused, hidden details cannot be probed by a read
// key, a keyless collector refuses foreign Hosts/Origins and form posts, security headers, bounded
// /metrics labels, inert CSV cells.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describeWithPostgres, TestDatabases } from './helpers/postgres-db';
import { KEYS, startServer, tempDir, type TestServer } from './helpers/server';

/** The filter parameters the Grafana data source maps its query fields to (its FILTER_PARAMS). */
function pluginFilterParams(): string[] {
  const src = readFileSync(join(__dirname, '..', '..', 'plugin', 'src', 'datasource', 'params.ts'), 'utf8');
  const block = /FILTER_PARAMS[^=]*=\s*\[([\s\S]*?)\];/.exec(src)?.[1] ?? '';
  return [...block.matchAll(/\['\w+',\s*'(\w+)'\]/g)].map((m) => m[1]);
}

const dbs = new TestDatabases();
afterAll(() => dbs.dropAll());

const now = () => Date.now() - 60_000;
const HIDDEN_IP = '81.2.69.16';
const OTHER_IP = '81.2.69.17';

/** One request with exactly these headers (Host and Origin included), through node:http. */
function rawRequest(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: u.hostname, port: u.port, method, path, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Six failures: the default policy locks the user on the 6th. */
async function lockUser(s: TestServer, user: string, ip: string): Promise<void> {
  const t = now();
  const failures = Array.from({ length: 6 }, (_, i) => ({ type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip, time: t + i }));
  const r = await s.req('POST', '/v1/events', { key: 'ingest', body: failures });
  expect(r.status).toBe(202);
}

function suite(store: string, storeUrl: (dir: string) => Promise<string>): void {
  describe(`keyed collector, AUTHWATCH_HIDE_DETAILS=1 (${store})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      const dir = tempDir();
      s = await startServer({ dir, env: { AUTHWATCH_STORE: await storeUrl(dir), AUTHWATCH_HIDE_DETAILS: '1' } });
      const t = now();
      const events = [
        { type: 'login', outcome: 'success', user: 'hid', ip: HIDDEN_IP, time: t, service: 'payment-portal' },
        // /metrics: label values outside the vocabularies.
        { type: 'login', outcome: 'failure', reason: 'alice_smith_ssn_123', user: 'm1', ip: '203.0.113.99', service: '203.0.113.99', time: t },
        { type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'm2', service: 'jane.doe@example.com', time: t },
        // CSV: formulas behind a line feed, spaces, full-width signs.
        { type: 'access', outcome: 'success', reason: 'report_download', user: '\n=1+1', user_agent: '  =1+1', service: '＝1+1', entry: '\t＠SUM(A1)', time: t },
        { type: 'access', outcome: 'success', reason: 'report_download', user: '  =1+1', device: '\r\n-2+3', time: t },
        { type: 'access', outcome: 'success', reason: 'report_download', user: '＝1+1', app_version: '＋1', time: t },
      ];
      expect((await s.req('POST', '/v1/events', { key: 'ingest', body: events })).status).toBe(202);
      await lockUser(s, 'alice', '198.51.100.7');
    });
    afterAll(() => s.stop(true));

    test.each([
      ['/v1/events', 'to', '99999999999999999999'],
      ['/v1/events', 'from', '-9223372036854775809'],
      ['/v1/events', 'from', '0000-01-01T00:00:00Z'],
      ['/v1/events', 'to', '2026-02-30T00:00:00Z'],
      ['/v1/events', 'to', '1e400'],
      ['/v1/events', 'limit', '1e3'],
      ['/v1/events', 'limit', '99999999999999999999'],
      ['/v1/events.csv', 'to', '99999999999999999999'],
      ['/v1/events.csv', 'limit', '-1'],
      ['/v1/timeseries', 'from', '-9223372036854775809'],
      ['/v1/timeseries', 'to', '99999999999999999999'],
      ['/v1/timeseries', 'interval_ms', '0x10'],
      ['/v1/stats', 'to', '99999999999999999999'],
      ['/v1/stats', 'from', '-1'],
      ['/v1/sessions', 'to', '99999999999999999999'],
      ['/v1/sessions', 'from', '-9223372036854775809'],
      ['/v1/sessions', 'limit', '50001'],
      ['/v1/values/user', 'to', '99999999999999999999'],
      ['/v1/values/user', 'limit', '0'],
      ['/v1/events', 'q', 'ab\u0000cd'],
      ['/v1/events.csv', 'q', '\u0000'],
      ['/v1/timeseries', 'q', 'x\u0000'],
      ['/v1/stats', 'q', '\u0000'],
    ])('%s?%s=%s → 400 naming the parameter', async (path, name, value) => {
      const r = await s.req('GET', `${path}?${name}=${encodeURIComponent(value)}`, { key: 'admin' });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(new RegExp(`^${name} `));
      expect(r.body.details).toEqual([expect.objectContaining({ path: name })]);
    });

    test('value search (q) matches as free text does on both stores: ASCII letters in either case, others only themselves, wildcards literal', async () => {
      const users = ['Zoë-vq', 'ZOË-vq', 'zoe%vq', 'zoeXvq'];
      const t = now();
      expect((await s.req('POST', '/v1/events', { key: 'ingest', body: users.map((user) => ({ type: 'login', outcome: 'success', user, time: t })) })).status).toBe(202);
      const values = async (q: string) => (await s.req('GET', `/v1/values/user?q=${encodeURIComponent(q)}`, { key: 'admin' })).body.values as string[];
      expect(await values('zoë-VQ')).toEqual(['Zoë-vq']);
      expect(await values('ZOË-VQ')).toEqual(['ZOË-vq']);
      expect(await values('e%v')).toEqual(['zoe%vq']);
      expect(await values('E_V')).toEqual([]);
    });

    test('RFC 3339 and epoch times at the edges of the range are accepted', async () => {
      for (const q of ['from=0&to=253402300799999', 'from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z', 'from=2026-04-01&to=2026-04-01T12:00:00%2B02:00']) {
        const r = await s.req('GET', `/v1/events?${q}`, { key: 'admin' });
        expect([r.status, q]).toEqual([200, q]);
      }
    });

    test('/v1/lockouts?state=all&user=alice → 200 with the lock history', async () => {
      const r = await s.get('/v1/lockouts?state=all&user=alice', 'admin');
      expect(r.status).toBe(200);
      expect(r.body.lockouts).toEqual([expect.objectContaining({ user: 'alice', state: 'locked' })]);
    });

    test('unknown query parameters → 400 listing the accepted ones (a typo never widens a query)', async () => {
      const r = await s.get('/v1/events?usr=alice&limt=5', 'admin');
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/unknown query parameters "usr", "limt"/);
      expect(r.body.error).toMatch(/accepts from, to, user, type, outcome, reason, ip, service, country, q, limit, cursor, order/);
      expect(r.body.details.map((d: any) => d.path)).toEqual(['usr', 'limt']);
      for (const path of ['/v1/events.csv', '/v1/timeseries', '/v1/stats', '/v1/values/user', '/v1/sessions', '/v1/sessions/abc']) {
        const x = await s.get(`${path}?format=json`, 'admin');
        expect([path, x.status, x.body.error]).toEqual([path, 400, expect.stringMatching(/unknown query parameter "format"/)]);
      }
    });

    test.each([
      ['/v1/events?outcome=failed', 'outcome', 'success, failure'],
      ['/v1/events?type=login,signin', 'type', 'login'],
      ['/v1/events?order=up', 'order', 'desc, asc'],
      ['/v1/stats?outcome=FAILURE', 'outcome', 'success, failure'],
      ['/v1/timeseries?group_by=ip', 'group_by', 'outcome, reason, service, country, type'],
      ['/v1/values/user?type=nope', 'type', 'login'],
      ['/v1/sessions?state=open', 'state', 'active, ended, all'],
    ])('%s → 400 with the allowed values', async (path, name, allowed) => {
      const r = await s.get(path, 'admin');
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(new RegExp(`^${name} must be one of .*${allowed}`));
      expect(r.body.details[0].path).toBe(name);
    });

    test('every parameter the Grafana data source sends is accepted', async () => {
      // plugin/src/datasource/datasource.ts: eventsParams, sessionsParams, lockoutsParams,
      // timeseriesParams, stats, metricFindQuery, csvUrl; FILTER_PARAMS maps the query editor's filters.
      const range = { from: String(now() - 86_400_000), to: String(now()) };
      const names = pluginFilterParams();
      expect(names).toEqual(expect.arrayContaining(['user', 'type', 'outcome', 'reason', 'ip', 'service', 'country', 'q']));
      const filters = Object.fromEntries(names.map((p) => [p, p === 'type' ? 'login' : p === 'outcome' ? 'failure' : 'x']));
      const qs = (o: Record<string, string>) => new URLSearchParams(o).toString();
      const calls = [
        `/v1/events?${qs({ ...range, ...filters, limit: '500', order: 'desc' })}`,
        `/v1/events?${qs({ ...range, type: 'lockout,detection,admin,unlock', limit: '500', order: 'desc' })}`,
        `/v1/events.csv?${qs({ ...range, ...filters })}`,
        `/v1/sessions?${qs({ state: 'all', user: 'x', ...range, limit: '50000' })}`,
        `/v1/sessions?${qs({ state: 'active', limit: '500' })}`,
        `/v1/lockouts?${qs({ state: 'all', user: 'x' })}`,
        `/v1/timeseries?${qs({ ...range, interval_ms: '60000', group_by: 'outcome', ...filters })}`,
        `/v1/stats?${qs({ ...range, ...filters })}`,
        `/v1/values/user?${qs({ ...range, q: 'ali', limit: '1000' })}`,
        '/v1/whoami',
      ];
      for (const path of calls) {
        const r = await s.get(path, 'admin');
        expect([path, r.status]).toEqual([path, 200]);
      }
    });

    test('with hidden details a read key cannot tell two IPs (or countries) apart through any filter', async () => {
      // The probe is meaningful: an admin key does see the difference.
      const admin = async (p: string) => (await s.get(p, 'admin')).body;
      expect((await admin(`/v1/events?user=hid&q=${HIDDEN_IP}`)).total).toBe(1);
      expect((await admin(`/v1/events?user=hid&q=${OTHER_IP}`)).total).toBe(0);
      const country = (await admin('/v1/events?user=hid')).events[0].country as string;
      expect(country).toMatch(/^[A-Z]{2}$/);

      const to = Date.now();
      const probes: [string, string][] = [
        [`/v1/events?user=hid&q=${HIDDEN_IP}`, `/v1/events?user=hid&q=${OTHER_IP}`],
        ['/v1/events?user=hid&q=81.2', '/v1/events?user=hid&q=99.9'],
        [`/v1/events?user=hid&ip=${HIDDEN_IP}`, `/v1/events?user=hid&ip=${OTHER_IP}`],
        [`/v1/events?user=hid&country=${country}`, '/v1/events?user=hid&country=ZZ'],
        [`/v1/events.csv?user=hid&q=${HIDDEN_IP}`, `/v1/events.csv?user=hid&q=${OTHER_IP}`],
        [`/v1/events.csv?user=hid&ip=${HIDDEN_IP}`, `/v1/events.csv?user=hid&ip=${OTHER_IP}`],
        [`/v1/stats?user=hid&q=${HIDDEN_IP}`, `/v1/stats?user=hid&q=${OTHER_IP}`],
        [`/v1/stats?user=hid&ip=${HIDDEN_IP}`, `/v1/stats?user=hid&ip=${OTHER_IP}`],
        [`/v1/stats?user=hid&country=${country}`, '/v1/stats?user=hid&country=ZZ'],
        [`/v1/timeseries?user=hid&q=${HIDDEN_IP}&from=0&to=${to}&interval_ms=31536000000`, `/v1/timeseries?user=hid&q=${OTHER_IP}&from=0&to=${to}&interval_ms=31536000000`],
        [`/v1/timeseries?user=hid&country=${country}`, '/v1/timeseries?user=hid&country=ZZ'],
        ['/v1/timeseries?user=hid&group_by=country', '/v1/timeseries?user=nobody&group_by=country'],
        [`/v1/values/user?q=hid&ip=${HIDDEN_IP}`, `/v1/values/user?q=hid&ip=${OTHER_IP}`],
        [`/v1/values/ip?q=${HIDDEN_IP}`, `/v1/values/ip?q=${OTHER_IP}`],
        [`/v1/values/country?q=${country}`, '/v1/values/country?q=ZZ'],
      ];
      for (const [a, b] of probes) {
        const [ra, rb] = [await s.req('GET', a, { key: 'read' }), await s.req('GET', b, { key: 'read' })];
        const strip = (t: string) => t.replace(/authwatch-events-[^"]*\.csv/, '');
        expect([a, ra.status, strip(ra.text)]).toEqual([a, rb.status, strip(rb.text)]);
        expect(ra.text).not.toContain(HIDDEN_IP);
        expect(ra.text).not.toContain(`"${country}"`);
        if (ra.status === 403) expect(ra.body.error).toMatch(/hides network details .*AUTHWATCH_HIDE_DETAILS/);
      }
      // Refused outright rather than answered emptily: the reader learns why.
      for (const p of ['/v1/timeseries?group_by=country', '/v1/values/ip', '/v1/values/country', `/v1/events?ip=${HIDDEN_IP}`, '/v1/events?country=GB']) {
        expect([p, (await s.get(p, 'read')).status]).toEqual([p, 403]);
      }
      // Free text still searches the visible columns.
      expect((await s.get('/v1/events?q=hid', 'read')).body.total).toBeGreaterThanOrEqual(1);
    });

    test('security headers: nosniff everywhere, no-store on /v1', async () => {
      for (const [path, key] of [['/healthz', null], ['/metrics', null], ['/v1/events', 'read'], ['/v1/nope', 'read'], ['/v1/events.csv', 'read'], ['/v1/events', null]] as const) {
        const r = await s.req('GET', path, { key });
        expect([path, r.headers.get('x-content-type-options')]).toEqual([path, 'nosniff']);
        if (path.startsWith('/v1')) expect([path, r.headers.get('cache-control')]).toEqual([path, 'no-store']);
      }
    });

    test('state-changing routes need Content-Type: application/json, also without a body (415); JSON with no body works', async () => {
      const admin = { authorization: `Bearer ${KEYS.admin}` };
      for (const ct of [undefined, 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
        const headers: Record<string, string> = { ...admin, ...(ct ? { 'content-type': ct } : {}) };
        const r = await rawRequest(s.url, 'POST', '/v1/users/alice/unlock', headers, ct ? 'x=1' : undefined);
        expect([ct, r.status]).toEqual([ct, 415]);
        expect(r.body.error).toMatch(/Content-Type must be application\/json/);
      }
      // A missing key is still a 401 first.
      expect((await rawRequest(s.url, 'POST', '/v1/users/alice/unlock', { 'content-type': 'text/plain' }, 'x')).status).toBe(401);
      expect((await s.get('/v1/lockouts?state=locked&user=alice', 'admin')).body.lockouts).toHaveLength(1);
      const ok = await s.req('POST', '/v1/users/alice/unlock', { key: 'admin', headers: { 'content-type': 'application/json' } });
      expect([ok.status, ok.body]).toEqual([200, { unlocked: 1 }]);
    });

    test('/metrics carries no client text as label values', async () => {
      const text = (await s.req('GET', '/metrics', { key: null })).text;
      expect(text).not.toContain('203.0.113.99');
      expect(text).not.toContain('alice_smith_ssn_123');
      expect(text).not.toContain('example.com');
      expect(text).toMatch(/authwatch_login_attempts_total\{outcome="failure",reason="other",service="other"\} 1/);
      expect(text).toMatch(/authwatch_login_attempts_total\{outcome="success",reason="none",service="payment-portal"\} 1/);
      expect(text).toMatch(/authwatch_login_attempts_total\{outcome="failure",reason="invalid_password",service="none"\} 6/);
    });

    test('CSV: formulas behind a line break, spaces or full-width signs come out inert', async () => {
      const csv = (await s.req('GET', '/v1/events.csv?type=access', { key: 'admin' })).text;
      for (const cell of ['"\'\n=1+1"', "'  =1+1", "'＝1+1", "'\t＠SUM(A1)", '"\'\r\n-2+3"', "'＋1"]) expect(csv).toContain(`,${cell},`);
      // RFC 4180 fields in order; no text cell may start with whitespace or a formula sign.
      const cells = [...csv.matchAll(/("(?:[^"]|"")*"|[^,\r\n]*)(?:,|\r\n)/g)].map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]));
      expect(cells.length % 29).toBe(0);
      for (const c of cells) if (!/^-?\d+(\.\d+)?$/.test(c)) expect([c, /^[\s=+\-@＝＋－＠]/u.test(c)]).toEqual([c, false]);
    });
  });

  describe(`keyless collector (${store})`, () => {
    let s: TestServer;
    let host: string;
    beforeAll(async () => {
      const dir = tempDir();
      s = await startServer({ dir, env: { AUTHWATCH_STORE: await storeUrl(dir), AUTHWATCH_INGEST_KEYS: '', AUTHWATCH_READ_KEYS: '', AUTHWATCH_ADMIN_KEYS: '' } });
      host = new URL(s.url).host;
      await lockUser(s, 'bob', '198.51.100.8');
    });
    afterAll(() => s.stop(true));

    const stillLocked = async () => {
      const r = await rawRequest(s.url, 'GET', '/v1/lockouts?state=locked&user=bob', { host });
      expect(r.status).toBe(200);
      return r.body.lockouts.length as number;
    };
    const audits = async () => (await rawRequest(s.url, 'GET', '/v1/events?type=admin,unlock', { host })).body.total as number;

    test('a form-encoded, text/plain or type-less POST (what a web page can send) is refused and changes nothing', async () => {
      for (const [ct, body] of [['application/x-www-form-urlencoded', 'x=1'], ['text/plain', '{"a":1}'], ['multipart/form-data; boundary=b', '--b--'], [undefined, undefined]] as const) {
        const headers: Record<string, string> = { host, ...(ct ? { 'content-type': ct } : {}) };
        for (const path of ['/v1/users/bob/unlock', '/v1/ips/198.51.100.8/unlock', '/v1/users/bob/sessions/terminate']) {
          const r = await rawRequest(s.url, 'POST', path, headers, body);
          expect([path, ct, r.status]).toEqual([path, ct, 415]);
        }
      }
      expect(await stillLocked()).toBe(1);
      expect(await audits()).toBe(0);
    });

    test('a foreign Host (DNS rebinding) is refused for reads and writes; nothing changes', async () => {
      for (const h of ['evil.example', `evil.example:${new URL(s.url).port}`, '127.0.0.1.evil.example', 'localhost.evil.example:80', '127.0.0.2:80']) {
        const read = await rawRequest(s.url, 'GET', '/v1/events', { host: h });
        expect([h, read.status]).toEqual([h, 403]);
        expect(read.body.error).toMatch(/only answers requests addressed to 127\.0\.0\.1, localhost or \[::1\]/);
        const write = await rawRequest(s.url, 'POST', '/v1/users/bob/unlock', { host: h, 'content-type': 'application/json' }, '{}');
        expect([h, write.status]).toEqual([h, 403]);
      }
      expect(await stillLocked()).toBe(1);
      expect(await audits()).toBe(0);
    });

    test('a foreign Origin is refused, even with JSON; loopback Hosts and same-origin work', async () => {
      for (const origin of ['http://evil.example', 'null', `http://localhost:1`, `https://${host}`]) {
        const r = await rawRequest(s.url, 'POST', '/v1/users/bob/unlock', { host, origin, 'content-type': 'application/json' }, '{}');
        expect([origin, r.status]).toEqual([origin, 403]);
        expect(r.body.error).toMatch(/cross-origin request refused/);
      }
      expect(await stillLocked()).toBe(1);
      const port = new URL(s.url).port;
      for (const h of [`localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1']) {
        expect([h, (await rawRequest(s.url, 'GET', '/healthz', { host: h })).status]).toEqual([h, 200]);
      }
      // What the client library and the Grafana plugin send: JSON content type, empty body.
      const ok = await rawRequest(s.url, 'POST', '/v1/users/bob/unlock', { host, origin: `http://${host}`, 'content-type': 'application/json' }, '');
      expect([ok.status, ok.body]).toEqual([200, { unlocked: 1 }]);
      expect(await stillLocked()).toBe(0);
    });
  });
}

suite('sqlite', async (dir) => `sqlite:${dir}/authwatch.db`);
describeWithPostgres('api hardening on PostgreSQL')('PostgreSQL', () => {
  suite('postgres', () => dbs.create());
});

describe('/metrics service labels from a configured list (AUTHWATCH_METRIC_SERVICES)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { AUTHWATCH_METRIC_SERVICES: 'billing, portal.v2' } });
  });
  afterAll(() => s.stop(true));

  test('only listed services are label values; the rest is "other"', async () => {
    const t = now();
    const events = ['billing', 'portal.v2', 'payment-portal', '203.0.113.99'].map((service, i) => ({ type: 'login', outcome: 'success', user: `u${i}`, service, time: t }));
    expect((await s.post('/v1/events', events)).status).toBe(202);
    const text = (await s.req('GET', '/metrics', { key: null })).text;
    expect(text).toMatch(/service="billing"\} 1/);
    expect(text).toMatch(/service="portal\.v2"\} 1/);
    expect(text).toMatch(/service="other"\} 2/);
    expect(text).not.toMatch(/payment-portal|203\.0\.113\.99/);
  });
});
