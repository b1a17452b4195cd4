// Fuzzing every endpoint of the wire contract with fast-check against the real collector process,
// once on SQLite and once on PostgreSQL: random and malformed JSON, wrong types, huge strings,
// unicode (lone surrogates, NUL), wrong content types, odd query and path parameters, values past
// the stores' integer ranges. Every answer must be a documented status (never a 5xx), every 4xx a
// JSON body with an "error" string, the process must stay up, and nothing accepted before is lost.
// The poisoned inputs found by the independent review run first, as fixed cases.
//
// AUTHWATCH_FUZZ_RUNS sets the number of generated cases per store (default 10,000; e.g. 100000
// for a manual run); AUTHWATCH_FUZZ_STORES=sqlite or =postgres runs one store only.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildCollectorIfStale } from '../helpers/spawn-collector';
import { describeWithPostgres, TestDatabases } from '../helpers/postgres-db';
import { bearer, makeKeys, startCollector, type Collector } from './collector-process';

const TOTAL = Number(process.env.AUTHWATCH_FUZZ_RUNS ?? 10_000);
const ONLY = process.env.AUTHWATCH_FUZZ_STORES;
const keys = makeKeys();
/** Requests in flight at once. */
const PARALLEL = 4;
const agent = new http.Agent({ keepAlive: true, maxSockets: PARALLEL });
const dbs = new TestDatabases();

interface Req {
  method: string;
  path: string;
  contentType?: string;
  body?: string;
  key?: string;
  headers?: Record<string, string>;
}
interface Res {
  status: number;
  type: string;
  text: string;
}

function send(base: string, r: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
    const headers: Record<string, string | number> = { ...r.headers };
    if (r.key) headers.authorization = `Bearer ${r.key}`;
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (body) headers['content-length'] = body.length;
    // host/port/path given apart so the client sends the path as is (a URL string would have
    // "." and ".." segments resolved before they reach the server).
    const { hostname, port } = new URL(base);
    const req = http.request({ hostname, port, path: r.path, method: r.method, agent, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    // The server may answer 413 and close before reading a huge body; the caller decides.
    req.on('error', reject);
    req.end(body);
  });
}

// ---------- value generators ----------
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => `a${String.fromCharCode(n)}b`);
const nasty = fc.constantFrom(
  '',
  ' ',
  "' OR 1=1 --",
  '%',
  '_',
  '\\',
  '\u0000',
  'a\u0000b',
  '=cmd|" /C calc"!A0',
  '\n=1+1',
  '  =1+1',
  '＝1+1',
  '../../etc/passwd',
  '𝕏𝔂🙂👩‍👩‍👧',
  '\u202eevil',
  '\u001b[2J',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '1e400',
  '-0',
  'NaN',
  '2026-13-45T99:99:99Z',
  '<script>alert(1)</script>',
);
// Over the field limits; rarely over 1 MB (each costs a megabyte of JSON both ways).
const huge = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1_000, 70_000) }, { weight: 1, arbitrary: fc.constant(1_100_000) }).map((n) => 'x'.repeat(n));
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string() },
  { weight: 3, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme' }) },
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: huge },
);
const anyJson = fc.jsonValue({ maxDepth: 3 });
const ip = fc.oneof(fc.ipV4(), fc.ipV6(), text, anyJson);
const time = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.double(),
  text,
  anyJson,
);
const attrs = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 40 }),
  fc.dictionary(fc.constantFrom('password', 'api_token', 'client_secret', 'Passwd', 'x'), fc.string(), { maxKeys: 3 }),
  fc.dictionary(fc.oneof(loneSurrogate, fc.constantFrom('k\u0000', '\u0000', 'a\ud800')), fc.oneof(fc.string(), loneSurrogate), { maxKeys: 3 }),
  anyJson,
);
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: anyJson });
const recentTime = () => fc.integer({ min: Date.now() - 30 * 86_400_000, max: Date.now() - 1000 });
const validEvent = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 128 }),
    time: fc.oneof(recentTime(), recentTime().map((t) => new Date(t).toISOString())),
    type: fc.constantFrom('login', 'logout', 'session_end', 'mfa', 'password_reset', 'password_change', 'access'),
    outcome: fc.constantFrom('success', 'failure'),
    reason: fc.constantFrom('invalid_password', 'idle_timeout', 'new_login', 'mfa_failed', 'report_download'),
    user: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }),
    user_id: fc.string({ maxLength: 40 }),
    email: fc.emailAddress(),
    session_id: fc.string({ minLength: 1, maxLength: 80 }),
    ip: fc.oneof(fc.ipV4(), fc.ipV6()),
    user_agent: fc.string({ maxLength: 300 }),
    service: fc.constantFrom('payment-portal', 'sshd', 'admin-console', '203.0.113.99'),
    attributes: fc.dictionary(fc.stringMatching(/^[a-z][a-z_]{0,15}$/).filter((k) => !/pass|secret|token|key/.test(k)), fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.boolean()), { maxKeys: 8 }),
  },
  { requiredKeys: ['user', 'type'] },
);
// A valid event with one field replaced by junk: finds the validator's blind spots.
const mutatedEvent = fc
  .tuple(validEvent, fc.constantFrom('id', 'time', 'type', 'outcome', 'reason', 'user', 'user_id', 'email', 'session_id', 'ip', 'user_agent', 'device', 'service', 'attributes', 'password', 'access_token'), fc.oneof(text, anyJson))
  .map(([e, k, v]) => ({ ...e, [k]: v }));
const randomEvent = fc.record(
  {
    id: field(fc.string({ minLength: 1, maxLength: 140 })),
    time,
    type: field(fc.constantFrom('login', 'logout', 'session_end', 'mfa', 'password_reset', 'password_change', 'access', 'lockout', 'admin')),
    outcome: field(fc.constantFrom('success', 'failure')),
    reason: field(fc.constantFrom('invalid_password', 'idle_timeout', 'Not Snake', 'new_login')),
    user: field(fc.string({ minLength: 1, maxLength: 40 })),
    user_id: text,
    email: field(fc.emailAddress()),
    session_id: text,
    ip,
    user_agent: text,
    device: text,
    app_version: text,
    service: text,
    entry: text,
    attributes: attrs,
    password: text,
    token: text,
  },
  { requiredKeys: [] },
);
const event = fc.oneof(validEvent, mutatedEvent, randomEvent);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant<string | undefined>('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom<string | undefined>(
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/xml',
      undefined,
      'application/json; charset=latin1',
      'application/vnd.api+json',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).filter((s) => /^[\x21-\x7e ]*$/.test(s)) },
);
const malformedJson = fc.oneof(
  fc.string(),
  fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
  fc.constantFrom('{', '[', '{"user":', '{"user":"a",}', "{'user':'a'}", 'NaN', '[1,2', '\u0000', '{"user":"a"}{"user":"b"}', '{"user":"\\ud800"}', '{"user":"a\\u0000"}'),
);
const jsonBody = (value: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 6, arbitrary: value.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: malformedJson },
  );
// Precomputed, rare: one request over the documented limits.
const tooManyEvents = JSON.stringify(Array.from({ length: 10_001 }, (_, i) => ({ user: `u${i}`, type: 'login', outcome: 'success' })));
const overFiveMB = JSON.stringify([{ user: 'big', type: 'login', outcome: 'success', user_agent: 'y'.repeat(5_300_000) }]);
const eventsBody = fc.oneof(
  { weight: 40, arbitrary: jsonBody(fc.oneof(event, fc.array(event, { maxLength: 15 }), fc.array(validEvent, { minLength: 1, maxLength: 30 }))) },
  { weight: 1, arbitrary: fc.constantFrom(tooManyEvents, overFiveMB) },
);
const checkBody = jsonBody(
  fc.oneof(
    fc.record({ user: field(fc.string({ minLength: 1 })), ip, attempt: field(fc.boolean()) }, { requiredKeys: [] }),
    fc.record({ user: fc.string({ minLength: 1 }), ip: fc.ipV4() }),
    fc.record({ user: fc.oneof(loneSurrogate, fc.constantFrom('a\u0000', '\u0000')) }),
  ),
);
const policyBody = jsonBody(
  fc.record(
    {
      max_failed_attempts: field(fc.integer({ min: -5, max: 1000 })),
      window_seconds: field(fc.integer({ min: -5, max: 10_000_000 })),
      lock_seconds: field(fc.integer({ min: -5, max: 10_000_000 })),
      escalation: field(fc.constantFrom('none', 'linear', 'multiple')),
      max_lock_seconds: field(fc.integer()),
      permanent_after: field(fc.option(fc.integer({ min: 0, max: 100 }))),
      scope: field(fc.constantFrom('user', 'user_ip')),
      ip_max_failed_attempts: field(fc.integer({ min: -5, max: 1000 })),
    },
    { requiredKeys: [] },
  ),
);
// OTLP/HTTP logs (JSON encoding): records named like auth events, attributes from the generators.
const otlpAttr = (key: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>) =>
  fc.tuple(key, value).map(([k, v]) => ({ key: k, value: typeof v === 'string' ? { stringValue: v } : typeof v === 'number' ? { intValue: v } : { stringValue: JSON.stringify(v) } }));
const otlpRecord = fc.record(
  {
    eventName: fc.oneof(fc.constantFrom('authwatch.login', 'login', 'authwatch.access', 'other'), text),
    timeUnixNano: fc.oneof(recentTime().map((t) => `${t}000000`), fc.constantFrom('99999999999999999999999', '-1', 'x')),
    attributes: fc.array(
      fc.oneof(
        otlpAttr(fc.constantFrom('user.name', 'client.address', 'authwatch.outcome', 'authwatch.reason', 'authwatch.service', 'session.id'), fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), text)),
        otlpAttr(fc.oneof(fc.constant('authwatch.attr.k\u0000'), loneSurrogate.map((s) => `authwatch.attr.${s}`), fc.string()), fc.oneof(text, fc.integer())),
      ),
      { maxLength: 8 },
    ),
  },
  { requiredKeys: [] },
);
const logsBody = jsonBody(fc.oneof(fc.record({ resourceLogs: fc.array(fc.record({ scopeLogs: fc.array(fc.record({ logRecords: fc.array(otlpRecord, { maxLength: 5 }) }), { maxLength: 2 }) }), { maxLength: 2 }) }), anyJson));

// Query strings: known parameter names (and a few unknown) with odd values, sometimes repeated,
// sometimes raw and malformed; and well-formed queries that reach the store.
const QUERY_KEYS = [
  'from', 'to', 'user', 'type', 'outcome', 'reason', 'ip', 'service', 'country', 'q', 'limit', 'cursor', 'order', 'state', 'scope',
  'interval_ms', 'group_by', 'format', 'sort', 'usr', '__proto__', 'constructor',
];
// Values stay under Node's 16 KB header limit: beyond it node:http answers a bare 431 itself,
// before the app sees the request (tested separately below).
const shortText = text.map((t) => t.slice(0, 3000));
const POISONED_NUMBERS = ['99999999999999999999', '-9223372036854775809', '9223372036854775808', '-1', '0', '1e12', '1e400', '0x10', '253402300799999', '253402300800000', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '2026-02-30T00:00:00Z'];
const queryValue = fc.oneof(
  shortText,
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(...POISONED_NUMBERS, '2026-01-01T00:00:00Z', 'active', 'ended', 'all', 'locked', 'failed', 'failure', 'login', 'country', 'ip', 'outcome', 'asc'),
);
const queryTime = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 253_402_300_799_999 }).map(String) },
  { weight: 4, arbitrary: fc.integer({ min: Date.now() - 40 * 86_400_000, max: Date.now() + 86_400_000 }).map(String) },
  { weight: 2, arbitrary: fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom(...POISONED_NUMBERS) },
);
/** Well-formed values for every parameter, so that most of these queries reach the store. */
const wellFormed: Record<string, fc.Arbitrary<string>> = {
  from: queryTime,
  to: queryTime,
  user: fc.oneof(fc.constantFrom('alice', 'fuzz-canary', 'a,b'), shortText),
  type: fc.constantFrom('login', 'login,access', 'detection', 'lockout,unlock,admin'),
  outcome: fc.constantFrom('success', 'failure', 'success,failure'),
  reason: fc.oneof(fc.constant('invalid_password'), shortText),
  ip: fc.oneof(fc.ipV4(), fc.ipV6(), shortText),
  service: fc.oneof(fc.constant('payment-portal'), shortText),
  country: fc.constantFrom('GB', 'NL', 'private', 'GB,NL'),
  q: shortText,
  limit: fc.oneof(fc.integer({ min: 1, max: 1000 }).map(String), fc.constant('50000')),
  cursor: fc.oneof(shortText, fc.tuple(fc.integer(), fc.integer()).map((t) => Buffer.from(JSON.stringify(t)).toString('base64url'))),
  order: fc.constantFrom('asc', 'desc'),
  state: fc.constantFrom('active', 'ended', 'all', 'locked'),
  interval_ms: fc.constantFrom('1000', '60000', '3600000', '31622400000'),
  group_by: fc.constantFrom('outcome', 'reason', 'service', 'country', 'type'),
};
const FILTERS = ['from', 'to', 'user', 'type', 'outcome', 'reason', 'ip', 'service', 'country', 'q'];
const ACCEPTED: Record<string, string[]> = {
  events: [...FILTERS, 'limit', 'cursor', 'order'],
  csv: [...FILTERS, 'limit', 'order'],
  timeseries: [...FILTERS, 'interval_ms', 'group_by'],
  stats: FILTERS,
  values: [...FILTERS, 'limit'],
  sessions: ['state', 'user', 'from', 'to', 'limit'],
  lockouts: ['state', 'user', 'limit'],
  none: [],
};
const wellFormedQuery = (accepted: string[]) =>
  fc
    .record(Object.fromEntries(accepted.map((k) => [k, wellFormed[k]])), { requiredKeys: [] })
    .map((o) => {
      const pairs = Object.entries(o) as [string, string][];
      // Mostly from ≤ to, as a client sends them.
      const from = pairs.find(([k]) => k === 'from');
      const to = pairs.find(([k]) => k === 'to');
      if (from && to && /^\d+$/.test(from[1]) && /^\d+$/.test(to[1]) && Number(from[1]) > Number(to[1])) [from[1], to[1]] = [to[1], from[1]];
      return pairs;
    });
/** Random names and values (mostly refused), well-formed queries for the endpoint, raw oddities. */
const query = (endpoint: keyof typeof ACCEPTED) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), { maxLength: 6 }).map(safeQuery) },
    { weight: 5, arbitrary: wellFormedQuery(ACCEPTED[endpoint]).map(safeQuery) },
    { weight: 1, arbitrary: fc.constantFrom('?%', '?limit=%zz', '?user=%E0%A4%A', '?from[$gt]=1', '?limit[]=1&limit[]=2', '?user[a]=b', '?&&&', '?=x', '?q=%00', '?user=%ED%A0%80', '?q=%ED%A0%80%00') },
  );
const pathParam = fc.oneof(
  { weight: 5, arbitrary: shortText.map(safeSegment) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%ED%A0%80', '%C0%AF', '..', '.', '%2e%2e', 'a%2Fb', '%00', 'alice', '203.0.113.7', '%3A%3A1') },
);

function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as bytes: invalid UTF-8 on the wire
  }
}
function safeQuery(pairs: [string, string][]): string {
  return pairs.length ? `?${pairs.map(([k, v]) => `${k}=${safeEncode(v)}`).join('&')}` : '';
}
function safeSegment(s: string): string {
  return s === '' ? 'x' : safeEncode(s);
}

// ---------- endpoints ----------
interface Endpoint {
  name: string;
  weight: number;
  req: fc.Arbitrary<Req>;
  statuses: number[];
  /** 2xx bodies are JSON (not CSV / Prometheus text). */
  json2xx?: boolean;
}
const anyKey = (k: string) => fc.oneof({ weight: 12, arbitrary: fc.constant<string | undefined>(k) }, { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, 'wrong', '', ' ', 'Bearer', keys.ingest.slice(0, -1)) });
// Reads as a read key (hidden details: ip/country filters are 403) or as an admin (they run).
const readKey = fc.oneof({ weight: 3, arbitrary: anyKey(keys.read) }, { weight: 2, arbitrary: fc.constant<string | undefined>(keys.admin) });
const actionBody = fc.oneof(fc.constant<string | undefined>(undefined), fc.constant<string | undefined>('{}'), fc.constant<string | undefined>(''), jsonBody(anyJson));
const READ = [200, 400, 401, 403];

const endpoints: Endpoint[] = [
  { name: 'POST /v1/events', weight: 2000, statuses: [202, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/events'), contentType, body: eventsBody, key: anyKey(keys.ingest) }) },
  { name: 'POST /v1/logs', weight: 500, statuses: [200, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/logs'), contentType, body: logsBody, key: anyKey(keys.ingest) }) },
  { name: 'POST /v1/check', weight: 1000, statuses: [200, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/check'), contentType, body: checkBody, key: anyKey(keys.ingest) }) },
  { name: 'GET /v1/events', weight: 1100, statuses: READ, json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query('events').map((q) => `/v1/events${q}`), key: readKey }) },
  { name: 'GET /v1/events.csv', weight: 400, statuses: READ,
    req: fc.record({ method: fc.constant('GET'), path: query('csv').map((q) => `/v1/events.csv${q}`), key: readKey }) },
  { name: 'GET /v1/timeseries', weight: 500, statuses: READ, json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query('timeseries').map((q) => `/v1/timeseries${q}`), key: readKey }) },
  { name: 'GET /v1/stats', weight: 400, statuses: READ, json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query('stats').map((q) => `/v1/stats${q}`), key: readKey }) },
  { name: 'GET /v1/values/:field', weight: 400, statuses: READ, json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: fc.tuple(fc.oneof(fc.constantFrom('user', 'service', 'reason', 'country', 'type', 'ip', 'outcome'), pathParam), query('values')).map(([f, q]) => `/v1/values/${f}${q}`), key: readKey }) },
  { name: 'GET /v1/sessions', weight: 400, statuses: READ, json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query('sessions').map((q) => `/v1/sessions${q}`), key: readKey }) },
  { name: 'GET /v1/sessions/:id', weight: 400, statuses: [200, 400, 401, 404], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: pathParam.map((p) => `/v1/sessions/${p}`), key: anyKey(keys.ingest) }) },
  { name: 'POST /v1/sessions/:id/terminate', weight: 300, statuses: [200, 400, 401, 404, 409, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/sessions/${p}/terminate`), contentType, body: actionBody, key: anyKey(keys.admin) }) },
  { name: 'POST /v1/users/:user/sessions/terminate', weight: 300, statuses: [200, 400, 401, 404, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/users/${p}/sessions/terminate`), contentType, body: actionBody, key: anyKey(keys.admin) }) },
  { name: 'GET /v1/lockouts', weight: 400, statuses: READ, json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query('lockouts').map((q) => `/v1/lockouts${q}`), key: readKey }) },
  { name: 'POST /v1/users/:user/unlock', weight: 300, statuses: [200, 400, 401, 404, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/users/${p}/unlock`), contentType, body: actionBody, key: anyKey(keys.admin) }) },
  { name: 'POST /v1/ips/:ip/unlock', weight: 200, statuses: [200, 400, 401, 404, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/ips/${p}/unlock`), contentType, body: actionBody, key: anyKey(keys.admin) }) },
  { name: 'GET /v1/policy, /v1/whoami', weight: 200, statuses: [200, 400, 401], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: fc.tuple(fc.constantFrom('/v1/policy', '/v1/whoami'), query('none')).map(([p, q]) => p + q), key: readKey }) },
  { name: 'PUT /v1/policy', weight: 600, statuses: [200, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('PUT'), path: fc.constant('/v1/policy'), contentType, body: policyBody, key: anyKey(keys.admin) }) },
  { name: 'GET /healthz, /metrics', weight: 200, statuses: [200],
    req: fc.record({ method: fc.constant('GET'), path: fc.tuple(fc.constantFrom('/healthz', '/metrics'), query('none')).map(([p, q]) => p + q) }) },
  { name: 'unknown routes and methods', weight: 300, statuses: [400, 401, 403, 404, 405],
    req: fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      path: fc.oneof(
        pathParam.map((p) => `/v1/${p}`),
        pathParam.map((p) => `/${p}`),
        fc.constantFrom('/v1/events/1', '/v1/check/x', '/v2/events', '/v1', '/v1/users//unlock', '/v1/sessions//terminate'),
        fc.constantFrom('/v1/events', '/v1/check', '/v1/lockouts', '/v1/policy', '/v1/timeseries', '/v1/logs').map((p) => p),
      ),
      key: anyKey(keys.admin),
    }).filter((r) => !isDocumented(r.method, r.path)) },
];

function isDocumented(method: string, path: string): boolean {
  const p = path.split('?')[0];
  const routes: [string, RegExp][] = [
    ['POST', /^\/v1\/(events|logs|check)$/i], ['GET', /^\/v1\/(events(\.csv)?|timeseries|stats|lockouts|policy|whoami|openapi\.json)$/i],
    ['GET', /^\/v1\/sessions(\/[^/]+)?$/i], ['GET', /^\/v1\/values\/[^/]+$/i], ['POST', /^\/v1\/sessions\/[^/]+\/terminate$/i],
    ['POST', /^\/v1\/users\/[^/]+\/(sessions\/terminate|unlock)$/i], ['POST', /^\/v1\/ips\/[^/]+\/unlock$/i], ['PUT', /^\/v1\/policy$/i],
    ['GET', /^\/(healthz|metrics)$/i],
  ];
  return routes.some(([m, re]) => m === method && re.test(p.replace(/\/+$/, '') || '/'));
}

// ---------- the poisoned inputs of the review (issue 12), as fixed cases ----------
interface Poisoned {
  req: Req;
  /** Exact status the collector must answer. */
  expect: number;
  /** The parameter or body path a 400 must name. */
  names?: string;
}
const json = 'application/json';
const otlp = (attrs: string) => `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"authwatch.login","attributes":[${attrs}]}]}]}]}`;
const poisoned: Poisoned[] = [
  // Strings PostgreSQL cannot store: refused at the schema (400), never a store error.
  { req: { method: 'POST', path: '/v1/events', contentType: json, key: keys.ingest, body: '{"type":"login","outcome":"failure","user":"a\\ud800b"}' }, expect: 400, names: 'user' },
  { req: { method: 'POST', path: '/v1/events', contentType: json, key: keys.ingest, body: '{"type":"login","outcome":"failure","user":"a\\u0000b"}' }, expect: 400, names: 'user' },
  { req: { method: 'POST', path: '/v1/events', contentType: json, key: keys.ingest, body: '{"type":"login","user":"a","attributes":{"k\\u0000":"v"}}' }, expect: 400, names: 'attributes' },
  { req: { method: 'POST', path: '/v1/events', contentType: json, key: keys.ingest, body: '{"type":"login","user":"a","attributes":{"\\udc00":"v"}}' }, expect: 400, names: 'attributes' },
  { req: { method: 'POST', path: '/v1/events', contentType: json, key: keys.ingest, body: '{"type":"login","user":"a","attributes":{"k":"\\ud800"}}' }, expect: 400, names: 'attributes' },
  { req: { method: 'POST', path: '/v1/check', contentType: json, key: keys.ingest, body: '{"user":"a\\ud800"}' }, expect: 400, names: 'user' },
  { req: { method: 'POST', path: '/v1/check', contentType: json, key: keys.ingest, body: '{"user":"a\\u0000"}' }, expect: 400, names: 'user' },
  { req: { method: 'POST', path: '/v1/logs', contentType: json, key: keys.ingest, body: otlp('{"key":"user.name","value":{"stringValue":"a\\ud800"}}') }, expect: 400, names: 'user' },
  { req: { method: 'POST', path: '/v1/logs', contentType: json, key: keys.ingest, body: otlp('{"key":"user.name","value":{"stringValue":"a"}},{"key":"authwatch.attr.k\\u0000","value":{"stringValue":"v"}}') }, expect: 400, names: 'attributes' },
  // A user's lock history on PostgreSQL (a query left $1 unused).
  { req: { method: 'GET', path: '/v1/lockouts?state=all&user=alice', key: keys.read }, expect: 200 },
  // Numbers past bigint, negative times, year 0000: 400 naming the parameter on every read.
  ...['/v1/events', '/v1/events.csv', '/v1/timeseries', '/v1/sessions', '/v1/stats', '/v1/values/user'].flatMap((p) => [
    { req: { method: 'GET', path: `${p}?to=99999999999999999999`, key: keys.read }, expect: 400, names: 'to' },
    { req: { method: 'GET', path: `${p}?from=-9223372036854775809`, key: keys.read }, expect: 400, names: 'from' },
    { req: { method: 'GET', path: `${p}?from=0000-01-01T00:00:00Z`, key: keys.read }, expect: 400, names: 'from' },
    { req: { method: 'GET', path: `${p}?usr=alice&limt=5`, key: keys.read }, expect: 400, names: 'usr' },
  ]),
  { req: { method: 'GET', path: '/v1/events?outcome=failed', key: keys.read }, expect: 400, names: 'outcome' },
  { req: { method: 'GET', path: '/v1/sessions?state=open', key: keys.read }, expect: 400, names: 'state' },
  // Hidden details (AUTHWATCH_HIDE_DETAILS) with a read key.
  { req: { method: 'GET', path: '/v1/events?user=hid&ip=81.2.69.16', key: keys.read }, expect: 403 },
  { req: { method: 'GET', path: '/v1/timeseries?group_by=country', key: keys.read }, expect: 403 },
  { req: { method: 'GET', path: '/v1/values/ip', key: keys.read }, expect: 403 },
  // A form post to an action.
  { req: { method: 'POST', path: '/v1/users/bob/unlock', contentType: 'application/x-www-form-urlencoded', body: 'x=1', key: keys.admin }, expect: 415 },
];

const weightSum = endpoints.reduce((n, e) => n + e.weight, 0);
const runsFor = (e: Endpoint) => Math.max(20, Math.round((TOTAL * e.weight) / weightSum));
/** Generated cases actually sent (runs × PARALLEL). */
const casesFor = (e: Endpoint) => Math.ceil(runsFor(e) / PARALLEL) * PARALLEL;

function describeReq(r: Req): string {
  const body = r.body === undefined ? '' : ` body(${r.body.length})=${JSON.stringify(r.body.slice(0, 300))}`;
  return `${r.method} ${r.path.slice(0, 300)} ct=${r.contentType ?? '(none)'} key=${r.key ? (Object.values(keys).includes(r.key) ? 'valid' : JSON.stringify(r.key)) : '(none)'}${body}`;
}

/** fc.assert with long repeated runs in the report collapsed (a 1 MB counterexample helps nobody). */
async function assertShort<T>(property: fc.IAsyncProperty<[T]>, params: fc.Parameters<[T]>): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? `\nCause: ${((err as Error).cause as Error).message}` : '';
    const msg = ((err as Error).message + cause).replace(/(.)\1{40,}/gs, (m, ch: string) => `${ch}…(×${m.length})`);
    throw new Error(msg.length > 6000 ? `${msg.slice(0, 6000)}…` : msg);
  }
}

interface StoreUnderTest {
  /** AUTHWATCH_STORE for the collector. */
  url(dir: string): Promise<string>;
  /** How many of these event ids the store holds (read directly, not through the API). */
  countIds(ids: string[]): Promise<number>;
  close(): Promise<void>;
}

function fuzzSuite(name: string, open: () => StoreUnderTest): void {
  describe(`fuzz on ${name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), `authwatch-fuzz-${name}-`));
    let c: Collector;
    let store: StoreUnderTest;
    const tally = new Map<string, Record<string, number>>();
    const poisonedStatuses: Record<string, number> = {};
    let started = 0;
    const count = (group: string, status: string) => {
      const t = tally.get(group) ?? {};
      t[status] = (t[status] ?? 0) + 1;
      tally.set(group, t);
    };

    beforeAll(async () => {
      buildCollectorIfStale();
      store = open();
      c = await startCollector({ dbFile: join(dir, 'authwatch.db'), keys, env: { AUTHWATCH_STORE: await store.url(dir), AUTHWATCH_HIDE_DETAILS: '1' } });
      // Canary: accepted before the fuzzing, must still be there after it.
      const canary = Array.from({ length: 20 }, (_, i) => ({ id: `fuzz-canary-${i}`, type: 'login', outcome: 'success', user: 'fuzz-canary', ip: '10.9.9.9' }));
      const res = await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(keys.ingest) }, body: JSON.stringify(canary) });
      expect(res.status).toBe(202);
      started = Date.now();
    }, 300_000);

    afterAll(async () => {
      await c?.stop();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the poisoned inputs of the review: a clean 4xx naming the input, never a 5xx', async () => {
      const wrong: string[] = [];
      for (const p of poisoned) {
        const res = await send(c.url, p.req);
        count('poisoned inputs', String(res.status));
        poisonedStatuses[res.status] = (poisonedStatuses[res.status] ?? 0) + 1;
        const body = (() => {
          try {
            return JSON.parse(res.text) as { error?: string; message?: string; details?: { path?: string }[] };
          } catch {
            return {};
          }
        })();
        const named = p.names === undefined || JSON.stringify(body).includes(p.names);
        if (res.status !== p.expect || !named) wrong.push(`${describeReq(p.req)} → ${res.status} ${res.text.slice(0, 300)} (expected ${p.expect}${p.names ? ` naming ${p.names}` : ''})`);
      }
      expect(c.alive()).toBe(true);
      expect(wrong).toEqual([]);
    });

    test.each(endpoints.map((e) => [e.name, e] as const))('fuzz %s', async (group, ep) => {
      const check = async (r: Req) => {
        let res: Res;
        try {
          res = await send(c.url, r);
        } catch (err) {
          // A reset after an early 413 for a huge body is fine as long as the server lives on.
          if (r.body && r.body.length > 1_000_000 && c.alive()) {
            count(group, 'reset (huge body)');
            return;
          }
          throw new Error(`${describeReq(r)} → ${(err as Error).message}; collector alive: ${c.alive()}\n${c.output().slice(-2000)}`);
        }
        count(group, String(res.status));
        const where = `${describeReq(r)} → ${res.status} ${res.type} ${res.text.slice(0, 300)}`;
        if (res.status >= 500) throw new Error(`5xx: ${where}\n${c.output().slice(-2000)}`);
        if (!ep.statuses.includes(res.status)) throw new Error(`undocumented status: ${where}`);
        if (res.status >= 400) {
          if (!/application\/json/.test(res.type)) throw new Error(`4xx without a JSON body: ${where}`);
          let error: unknown;
          try {
            error = (JSON.parse(res.text) as { error?: unknown }).error;
          } catch {
            throw new Error(`4xx body is not JSON: ${where}`);
          }
          if (typeof error !== 'string' || !error) throw new Error(`4xx JSON without an "error" string: ${where}`);
        } else if (ep.json2xx) {
          try {
            JSON.parse(res.text);
          } catch {
            throw new Error(`2xx body is not JSON: ${where}`);
          }
        }
      };
      // PARALLEL cases per run, in flight together (as several clients would be); fast-check still
      // shrinks a failing run to the case that fails.
      await assertShort(
        fc.asyncProperty(fc.array(ep.req, { minLength: PARALLEL, maxLength: PARALLEL }), async (rs) => {
          await Promise.all(rs.map(check));
        }),
        { numRuns: Math.ceil(runsFor(ep) / PARALLEL) },
      );
    });

    // "atomic per batch": a 400 stores none of the batch, a 202 all of it (read from the store).
    test('a rejected batch stores nothing and an accepted one stores everything', async () => {
      let n = 0;
      const seen = { accepted: 0, rejected: 0 };
      await assertShort(
        fc.asyncProperty(
          fc.array(fc.oneof({ weight: 3, arbitrary: validEvent }, { weight: 1, arbitrary: mutatedEvent }), { minLength: 1, maxLength: 20 }).map((events) => {
            const batch = n++;
            const ids = events.map((_, k) => `atomic-${batch}-${k}`);
            return { method: 'POST', path: '/v1/events', contentType: 'application/json', key: keys.ingest, body: JSON.stringify(events.map((e, k) => ({ ...e, id: ids[k] }))), ids } as Req & { ids: string[] };
          }),
          async (r) => {
            const res = await send(c.url, r);
            count('atomic batches', String(res.status));
            const stored = await store.countIds(r.ids);
            if (res.status === 202) {
              seen.accepted++;
              if (stored !== r.ids.length) throw new Error(`202 but ${stored} of ${r.ids.length} stored: ${res.text}`);
            } else if (res.status === 400) {
              seen.rejected++;
              if (stored !== 0) throw new Error(`400 but ${stored} of ${r.ids.length} stored: ${res.text.slice(0, 300)}`);
              const details = (JSON.parse(res.text) as { details?: { index?: unknown }[] }).details;
              if (!Array.isArray(details) || details.length === 0 || typeof details[0].index !== 'number') {
                throw new Error(`400 for a batch without details[].index: ${res.text.slice(0, 300)}`);
              }
            } else {
              throw new Error(`unexpected ${res.status}: ${res.text.slice(0, 300)}`);
            }
          },
        ) as fc.IAsyncProperty<[Req & { ids: string[] }]>,
        { numRuns: Math.max(100, Math.round(TOTAL / 40)) },
      );
      console.log(`fuzz on ${name}: atomic batches: ${seen.accepted} accepted whole, ${seen.rejected} rejected whole (400 with details), none partial`);
      expect(seen.accepted).toBeGreaterThan(0);
      expect(seen.rejected).toBeGreaterThan(0);
    });

    test('a URL over the header limit is refused with 431 and the collector lives on', async () => {
      // node:http answers 431 itself and closes; the client may see the reset before the answer.
      const outcome = await send(c.url, { method: 'GET', path: `/v1/events?q=${'x'.repeat(70_000)}`, key: keys.read }).then(
        (r) => `${r.status}`,
        (err: Error) => err.message,
      );
      expect(['431', 'read ECONNRESET', 'socket hang up']).toContain(outcome);
      expect(c.alive()).toBe(true);
      expect((await send(c.url, { method: 'GET', path: '/healthz' })).status).toBe(200);
    });

    test('the collector is alive and lost nothing accepted before the fuzzing; summary', async () => {
      expect(c.alive()).toBe(true);
      const h = await fetch(`${c.url}/healthz`);
      expect(h.status).toBe(200);
      expect(await h.json()).toEqual({ status: 'ok' });
      const ev = await fetch(`${c.url}/v1/events?user=fuzz-canary&limit=100`, { headers: bearer(keys.read) });
      const ids = ((await ev.json()) as { events: { id: string }[] }).events.map((e) => e.id).sort();
      expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => `fuzz-canary-${i}`).sort());

      const byStatus: Record<string, number> = {};
      let total = 0;
      const lines: string[] = [];
      for (const [group, t] of tally) {
        const n = Object.values(t).reduce((a, b) => a + b, 0);
        total += n;
        for (const [s, k] of Object.entries(t)) byStatus[s] = (byStatus[s] ?? 0) + k;
        lines.push(`  ${group.padEnd(40)} ${String(n).padStart(6)}  ${JSON.stringify(t)}`);
      }
      const fivexx = Object.entries(byStatus).filter(([s]) => /^5/.test(s)).reduce((a, [, k]) => a + k, 0);
      console.log(
        [
          `fuzz summary (${name}): ${total} requests (${endpoints.reduce((n, e) => n + casesFor(e), 0)} generated cases, ${PARALLEL} in flight, + ${poisoned.length} poisoned + atomic batches + limits), ${fivexx} × 5xx, collector alive (pid ${c.pid}), canary intact, ${((Date.now() - started) / 1000).toFixed(0)} s`,
          `  by status: ${JSON.stringify(byStatus)}`,
          `  poisoned inputs: ${JSON.stringify(poisonedStatuses)}`,
          ...lines,
        ].join('\n'),
      );
      expect(fivexx).toBe(0);
      expect(total).toBeGreaterThanOrEqual(TOTAL);
    });
  });
}

afterAll(async () => {
  agent.destroy();
  await dbs.dropAll();
});

if (ONLY === undefined || ONLY === 'sqlite') {
  fuzzSuite('sqlite', () => {
    let db: Database.Database | undefined;
    let file = '';
    return {
      async url(dir) {
        file = join(dir, 'authwatch.db');
        return `sqlite:${file}`;
      },
      async countIds(ids) {
        db ??= new Database(file, { readonly: true, fileMustExist: true });
        const present = db.prepare(`SELECT count(*) FROM events WHERE id IN (${ids.map(() => '?').join(',')})`).pluck();
        return present.get(...ids) as number;
      },
      async close() {
        db?.close();
      },
    };
  });
}

if (ONLY === undefined || ONLY === 'postgres') {
  describeWithPostgres('fuzz on PostgreSQL')('PostgreSQL', () => {
    fuzzSuite('postgres', () => {
      let client: pg.Client | undefined;
      let url = '';
      return {
        async url() {
          url = await dbs.create();
          return url;
        },
        async countIds(ids) {
          if (!client) {
            client = new pg.Client({ connectionString: url });
            await client.connect();
          }
          return Number((await client.query('SELECT count(*) AS n FROM events WHERE id = ANY($1::text[])', [ids])).rows[0].n);
        },
        async close() {
          await client?.end();
        },
      };
    });
  });
}
