// Fuzzing every endpoint of the wire contract with fast-check against the real collector process:
// random and malformed JSON, wrong types, huge strings, unicode, wrong content types, odd query
// and path parameters. Every answer must be a documented status (never a 5xx), every 4xx a JSON
// body with an "error" string, the process must stay up, and nothing accepted before is lost.
// AUTHWATCH_FUZZ_RUNS sets the total number of cases (default 10,000; more for a manual run).
import Database from 'better-sqlite3';
import fc from 'fast-check';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, makeKeys, startCollector, type Collector } from './collector-process';

const TOTAL = Number(process.env.AUTHWATCH_FUZZ_RUNS ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'authwatch-fuzz-'));
const keys = makeKeys();
let c: Collector;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

interface Req {
  method: string;
  path: string;
  contentType?: string;
  body?: string;
  key?: string;
}
interface Res {
  status: number;
  type: string;
  text: string;
}

function send(r: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
    const headers: Record<string, string | number> = {};
    if (r.key) headers.authorization = `Bearer ${r.key}`;
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (body) headers['content-length'] = body.length;
    // host/port/path given apart so the client sends the path as is (a URL string would have
    // "." and ".." segments resolved before they reach the server).
    const { hostname, port } = new URL(c.url);
    const req = http.request({ hostname, port, path: r.path, method: r.method, agent, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', (err) => {
      // The server may answer 413 and close before reading a huge body; that is not a failure.
      reject(err);
    });
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
  '=cmd|" /C calc"!A0',
  '../../etc/passwd',
  '𝕏𝔂🙂👩‍👩‍👧',
  '\u202eevil',
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
const huge = fc.constantFrom(1_000, 70_000, 1_100_000).map((n) => 'x'.repeat(n));
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
  anyJson,
);
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: anyJson });
const validEvent = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 128 }),
    time: fc.oneof(fc.integer({ min: Date.now() - 30 * 86_400_000, max: Date.now() }), fc.date({ min: new Date('2020-01-01'), max: new Date(), noInvalidDate: true }).map((d) => d.toISOString())),
    type: fc.constantFrom('login', 'logout', 'session_end', 'mfa', 'password_reset', 'password_change', 'access'),
    outcome: fc.constantFrom('success', 'failure'),
    reason: fc.constantFrom('invalid_password', 'idle_timeout', 'new_login', 'mfa_failed', 'report_download'),
    user: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }),
    user_id: fc.string({ maxLength: 40 }),
    email: fc.emailAddress(),
    session_id: fc.string({ minLength: 1, maxLength: 80 }),
    ip: fc.oneof(fc.ipV4(), fc.ipV6()),
    user_agent: fc.string({ maxLength: 300 }),
    service: fc.constantFrom('payment-portal', 'sshd', 'admin-console'),
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
  fc.constantFrom('{', '[', '{"user":', '{"user":"a",}', "{'user':'a'}", 'NaN', '[1,2', '\u0000', '{"user":"a"}{"user":"b"}'),
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
  { weight: 40, arbitrary: jsonBody(fc.oneof(event, fc.array(event, { maxLength: 15 }), fc.array(validEvent, { minLength: 1, maxLength: 50 }))) },
  { weight: 1, arbitrary: fc.constantFrom(tooManyEvents, overFiveMB) },
);
const checkBody = jsonBody(fc.oneof(fc.record({ user: field(fc.string({ minLength: 1 })), ip }, { requiredKeys: [] }), fc.record({ user: fc.string({ minLength: 1 }), ip: fc.ipV4() })));
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

// Query strings: known parameter names (and a few unknown) with odd values, sometimes repeated,
// sometimes raw and malformed.
const QUERY_KEYS = ['from', 'to', 'user', 'type', 'outcome', 'reason', 'ip', 'service', 'q', 'limit', 'cursor', 'state', 'format', 'sort', '__proto__', 'constructor'];
// Values stay under Node's 16 KB header limit: beyond it node:http answers a bare 431 itself,
// before the app sees the request (tested separately below).
const shortText = text.map((t) => t.slice(0, 3000));
const queryValue = fc.oneof(shortText, fc.integer().map(String), fc.double().map(String), fc.constantFrom('-1', '0', '1e12', '99999999999999999999', '2026-01-01T00:00:00Z', 'active', 'ended', 'all', 'locked'));
const query = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), { maxLength: 6 }).map(safeQuery) },
  { weight: 1, arbitrary: fc.constantFrom('?%', '?limit=%zz', '?user=%E0%A4%A', '?from[$gt]=1', '?limit[]=1&limit[]=2', '?user[a]=b', '?&&&', '?=x', '?q=%00') },
);
const pathParam = fc.oneof(
  { weight: 5, arbitrary: shortText.map(safeSegment) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%ED%A0%80', '%C0%AF', '..', '.', '%2e%2e', 'a%2Fb', '%00') },
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

const endpoints: Endpoint[] = [
  { name: 'POST /v1/events', weight: 3000, statuses: [202, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/events'), contentType, body: eventsBody, key: anyKey(keys.ingest) }) },
  { name: 'POST /v1/check', weight: 1200, statuses: [200, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/check'), contentType, body: checkBody, key: anyKey(keys.ingest) }) },
  { name: 'GET /v1/events', weight: 1200, statuses: [200, 400, 401], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query.map((q) => `/v1/events${q}`), key: anyKey(keys.read) }) },
  { name: 'GET /v1/events.csv', weight: 500, statuses: [200, 400, 401],
    req: fc.record({ method: fc.constant('GET'), path: query.map((q) => `/v1/events.csv${q}`), key: anyKey(keys.read) }) },
  { name: 'GET /v1/sessions', weight: 500, statuses: [200, 400, 401], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query.map((q) => `/v1/sessions${q}`), key: anyKey(keys.read) }) },
  { name: 'GET /v1/sessions/:id', weight: 500, statuses: [200, 400, 401, 404], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: pathParam.map((p) => `/v1/sessions/${p}`), key: anyKey(keys.ingest) }) },
  { name: 'POST /v1/sessions/:id/terminate', weight: 400, statuses: [200, 400, 401, 404, 409, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/sessions/${p}/terminate`), key: anyKey(keys.admin) }) },
  { name: 'POST /v1/users/:user/sessions/terminate', weight: 400, statuses: [200, 400, 401, 404, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/users/${p}/sessions/terminate`), key: anyKey(keys.admin) }) },
  { name: 'GET /v1/lockouts', weight: 400, statuses: [200, 400, 401], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query.map((q) => `/v1/lockouts${q}`), key: anyKey(keys.read) }) },
  { name: 'POST /v1/users/:user/unlock', weight: 400, statuses: [200, 400, 401, 404, 415], json2xx: true,
    req: fc.record({ method: fc.constant('POST'), path: pathParam.map((p) => `/v1/users/${p}/unlock`), key: anyKey(keys.admin) }) },
  { name: 'GET /v1/policy', weight: 200, statuses: [200, 400, 401], json2xx: true,
    req: fc.record({ method: fc.constant('GET'), path: query.map((q) => `/v1/policy${q}`), key: anyKey(keys.read) }) },
  { name: 'PUT /v1/policy', weight: 800, statuses: [200, 400, 401, 413, 415], json2xx: true,
    req: fc.record({ method: fc.constant('PUT'), path: fc.constant('/v1/policy'), contentType, body: policyBody, key: anyKey(keys.admin) }) },
  { name: 'GET /healthz, /metrics', weight: 200, statuses: [200],
    req: fc.record({ method: fc.constant('GET'), path: fc.tuple(fc.constantFrom('/healthz', '/metrics'), query).map(([p, q]) => p + q) }) },
  { name: 'unknown routes and methods', weight: 300, statuses: [400, 401, 403, 404, 405],
    req: fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      path: fc.oneof(
        pathParam.map((p) => `/v1/${p}`),
        pathParam.map((p) => `/${p}`),
        fc.constantFrom('/v1/events/1', '/v1/check/x', '/v2/events', '/v1', '/v1/users//unlock', '/v1/sessions//terminate'),
        fc.constantFrom('/v1/events', '/v1/check', '/v1/lockouts', '/v1/policy').map((p) => p),
      ),
      key: anyKey(keys.admin),
    }).filter((r) => !isDocumented(r.method, r.path)) },
];

function isDocumented(method: string, path: string): boolean {
  const p = path.split('?')[0];
  const routes: [string, RegExp][] = [
    ['POST', /^\/v1\/events$/], ['POST', /^\/v1\/check$/], ['GET', /^\/v1\/events(\.csv)?$/], ['GET', /^\/v1\/sessions(\/[^/]+)?$/],
    ['POST', /^\/v1\/sessions\/[^/]+\/terminate$/], ['POST', /^\/v1\/users\/[^/]+\/(sessions\/terminate|unlock)$/],
    ['GET', /^\/v1\/lockouts$/], ['GET', /^\/v1\/policy$/], ['PUT', /^\/v1\/policy$/], ['GET', /^\/(healthz|metrics)$/],
  ];
  return routes.some(([m, re]) => m === method && re.test(p));
}

const weightSum = endpoints.reduce((n, e) => n + e.weight, 0);
const runsFor = (e: Endpoint) => Math.max(20, Math.round((TOTAL * e.weight) / weightSum));
const tally = new Map<string, Record<string, number>>();

beforeAll(async () => {
  c = await startCollector({ dbFile: join(dir, 'authwatch.db'), keys });
  // Canary: accepted before the fuzzing, must still be there after it.
  const canary = Array.from({ length: 20 }, (_, i) => ({ id: `fuzz-canary-${i}`, type: 'login', outcome: 'success', user: 'fuzz-canary', ip: '10.9.9.9' }));
  const res = await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(keys.ingest) }, body: JSON.stringify(canary) });
  expect(res.status).toBe(202);
});

afterAll(async () => {
  agent.destroy();
  await c?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function describeReq(r: Req): string {
  const body = r.body === undefined ? '' : ` body(${r.body.length})=${JSON.stringify(r.body.slice(0, 300))}`;
  return `${r.method} ${r.path.slice(0, 300)} ct=${r.contentType ?? '(none)'} key=${r.key ? (Object.values(keys).includes(r.key) ? 'valid' : JSON.stringify(r.key)) : '(none)'}${body}`;
}

/** fc.assert with long repeated runs in the report collapsed (a 1 MB counterexample helps nobody). */
async function assertShort(property: fc.IAsyncProperty<[Req]>, params: fc.Parameters<[Req]>): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? `\nCause: ${((err as Error).cause as Error).message}` : '';
    const msg = ((err as Error).message + cause).replace(/(.)\1{40,}/gs, (m, ch: string) => `${ch}…(×${m.length})`);
    throw new Error(msg.length > 6000 ? `${msg.slice(0, 6000)}…` : msg);
  }
}

test.each(endpoints.map((e) => [e.name, e] as const))('fuzz %s', async (name, ep) => {
  const counts: Record<string, number> = {};
  tally.set(name, counts);
  await assertShort(
    fc.asyncProperty(ep.req, async (r) => {
      let res: Res;
      try {
        res = await send(r);
      } catch (err) {
        // A reset after an early 413 for a huge body is fine as long as the server lives on.
        if (r.body && r.body.length > 1_000_000 && c.alive()) {
          counts['reset (huge body)'] = (counts['reset (huge body)'] ?? 0) + 1;
          return;
        }
        throw new Error(`${describeReq(r)} → ${(err as Error).message}; collector alive: ${c.alive()}\n${c.output().slice(-2000)}`);
      }
      counts[res.status] = (counts[res.status] ?? 0) + 1;
      const where = `${describeReq(r)} → ${res.status} ${res.type} ${res.text.slice(0, 300)}`;
      if (res.status >= 500) throw new Error(`5xx: ${where}`);
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
    }),
    { numRuns: runsFor(ep) },
  );
  console.log(`fuzz ${name}: ${runsFor(ep)} cases, statuses ${JSON.stringify(counts)}`);
});

// "atomic per batch": a 400 stores none of the batch, a 202 all of it (read from the file).
test('a rejected batch stores nothing and an accepted one stores everything', async () => {
  let n = 0;
  const seen = { accepted: 0, rejected: 0 };
  const db = new Database(join(dir, 'authwatch.db'), { readonly: true, fileMustExist: true });
  const present = db.prepare('SELECT count(*) FROM events WHERE id = ?').pluck();
  try {
    await assertShort(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 3, arbitrary: validEvent }, { weight: 1, arbitrary: mutatedEvent }), { minLength: 1, maxLength: 20 }).map((events) => {
          const batch = n++;
          const ids = events.map((_, k) => `atomic-${batch}-${k}`);
          return { method: 'POST', path: '/v1/events', contentType: 'application/json', key: keys.ingest, body: JSON.stringify(events.map((e, k) => ({ ...e, id: ids[k] }))), ids } as Req & { ids: string[] };
        }),
        async (r) => {
          const res = await send(r);
          const stored = r.ids.reduce((sum, id) => sum + (present.get(id) as number), 0);
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
      ) as fc.IAsyncProperty<[Req]>,
      { numRuns: Math.max(100, Math.round(TOTAL / 20)) },
    );
  } finally {
    db.close();
  }
  console.log(`atomic batches: ${seen.accepted} accepted whole, ${seen.rejected} rejected whole (400 with details), none partial`);
  expect(seen.accepted).toBeGreaterThan(0);
  expect(seen.rejected).toBeGreaterThan(0);
});

test('a URL over the header limit is refused with 431 and the collector lives on', async () => {
  // node:http answers 431 itself and closes; the client may see the reset before the answer.
  const outcome = await send({ method: 'GET', path: `/v1/events?q=${'x'.repeat(70_000)}`, key: keys.read }).then(
    (r) => `${r.status}`,
    (err: Error) => err.message,
  );
  console.log(`oversized URL → ${outcome}`);
  expect(['431', 'read ECONNRESET', 'socket hang up']).toContain(outcome);
  expect(c.alive()).toBe(true);
  const h = await send({ method: 'GET', path: '/healthz' });
  expect(h.status).toBe(200);
});

test('the collector is alive and lost nothing accepted before the fuzzing', async () => {
  expect(c.alive()).toBe(true);
  const h = await fetch(`${c.url}/healthz`);
  expect(h.status).toBe(200);
  expect(await h.json()).toEqual({ status: 'ok' });
  const ev = await fetch(`${c.url}/v1/events?user=fuzz-canary&limit=100`, { headers: bearer(keys.read) });
  const ids = ((await ev.json()) as { events: { id: string }[] }).events.map((e) => e.id).sort();
  expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => `fuzz-canary-${i}`).sort());
  const total = [...tally.values()].reduce((n, t) => n + Object.values(t).reduce((a, b) => a + b, 0), 0);
  console.log(`fuzz total: ${total} requests across ${endpoints.length} endpoint groups; collector alive, canary intact`);
});
