// The wire contract holds: every answer of a real collector (its composition root, express and a
// SQLite file, started in-process by the collector's test helper) validates against the
// @authwatch/wire schema the plugin and the client are typed with, field for field — a field the
// collector adds, drops or retypes without the contract fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import * as wire from '../src';
import { startServer, type TestServer } from '../../collector/test/helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.stop(true);
});

/** Schema-valid, and (for objects) exactly the schema's fields, nested objects included. */
function expectWire(schema: TSchema, value: unknown, where: string): void {
  const errors = [...Value.Errors(schema, value)].map((e) => `${where}${e.path}: ${e.message}`);
  expect(errors).toEqual([]);
  expect(extraFields(schema, value, where)).toEqual([]);
}

function extraFields(schema: TSchema, value: unknown, where: string): string[] {
  if (schema[Kind] === 'Object' && value && typeof value === 'object') {
    const props = schema.properties as Record<string, TSchema>;
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      k in props ? extraFields(props[k], v, `${where}.${k}`) : [`${where}.${k}: not in the wire contract`],
    );
  }
  if (schema[Kind] === 'Array' && Array.isArray(value)) return value.flatMap((v, i) => extraFields(schema.items as TSchema, v, `${where}[${i}]`));
  if (schema[Kind] === 'Union') return (schema.anyOf as TSchema[]).some((t) => Value.Check(t, value)) ? extraFields((schema.anyOf as TSchema[]).find((t) => Value.Check(t, value))!, value, where) : [];
  return [];
}

test('the collector answers in the wire contract: events, sessions, lockouts, policy, check, aggregates, errors', async () => {
  const now = Date.now();
  const failures = Array.from({ length: 6 }, (_, i) => ({
    type: 'login',
    outcome: 'failure',
    reason: 'invalid_password',
    user: 'mallory',
    ip: '203.0.113.7',
    time: now - 60_000 + i,
    attributes: { attempt: i + 1, remembered: false },
  }));
  const login = { type: 'login', outcome: 'success', reason: 'new_login', user: 'alice', user_id: 'u-1', email: 'alice@example.com', session_id: 'raw-session-alice-0001', ip: '198.51.100.4', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', service: 'portal', entry: 'web', time: now - 30_000 };
  for (const event of [...failures, login]) expectWire(wire.IngestEventSchema, event, 'sent event');
  const accepted = await s.post('/v1/events', [...failures, login]);
  expect(accepted.status).toBe(202);
  expectWire(wire.AcceptedSchema, accepted.body, 'POST /v1/events');

  const page = await s.get('/v1/events?limit=1000', 'read');
  expect(page.status).toBe(200);
  expectWire(wire.EventsPageSchema, page.body, 'GET /v1/events');
  // The collector's own events (the lockout) are in the contract too.
  expect(page.body.events.map((e: wire.StoredEvent) => e.type)).toEqual(expect.arrayContaining(['login', 'lockout']));

  const sessions = await s.get('/v1/sessions?state=all', 'read');
  expectWire(wire.SessionsListSchema, sessions.body, 'GET /v1/sessions');
  expect(sessions.body.sessions.map((x: wire.Session) => x.user)).toContain('alice');
  const state = await s.get('/v1/sessions/raw-session-alice-0001', 'ingest');
  expectWire(wire.SessionStateAnswerSchema, state.body, 'GET /v1/sessions/{id}');

  const lockouts = await s.get('/v1/lockouts?state=all', 'read');
  expectWire(wire.LockoutsListSchema, lockouts.body, 'GET /v1/lockouts');
  expect(lockouts.body.lockouts.map((l: wire.Lockout) => l.user)).toContain('mallory');

  expectWire(wire.PolicySchema, (await s.get('/v1/policy', 'read')).body, 'GET /v1/policy');

  const denied = await s.post('/v1/check', { user: 'mallory', ip: '203.0.113.7' });
  expect(denied.body.allowed).toBe(false);
  expectWire(wire.CheckAnswerSchema, denied.body, 'POST /v1/check (locked)');
  const allowed = await s.post('/v1/check', { user: 'bob', attempt: true, attempt_id: 'attempt-bob-000000001' });
  expect(allowed.body.allowed).toBe(true);
  expectWire(wire.CheckRequestSchema, { user: 'bob', attempt: true, attempt_id: 'attempt-bob-000000001' }, 'check request');
  expectWire(wire.CheckAnswerSchema, allowed.body, 'POST /v1/check (attempt)');

  const range = `from=${now - 3_600_000}&to=${now + 60_000}`;
  expectWire(wire.TimeseriesSchema, (await s.get(`/v1/timeseries?${range}&interval_ms=60000&group_by=outcome`, 'read')).body, 'GET /v1/timeseries');
  expectWire(wire.StatsSchema, (await s.get(`/v1/stats?${range}`, 'read')).body, 'GET /v1/stats');
  expectWire(wire.ValuesSchema, (await s.get('/v1/values/user', 'read')).body, 'GET /v1/values/user');
  expectWire(wire.WhoamiSchema, (await s.get('/v1/whoami', 'read')).body, 'GET /v1/whoami');

  for (const [status, answer] of [
    [400, await s.post('/v1/events', { type: 'login' })],
    [401, await s.req('GET', '/v1/events', { key: null })],
    [403, await s.get('/v1/policy', 'ingest')],
    [404, await s.get('/v1/no-such-route', 'read')],
  ] as const) {
    expect(answer.status).toBe(status);
    expectWire(wire.ErrorBodySchema, answer.body, `error ${status}`);
    expect(wire.ERRORS[answer.body.code as wire.ErrorCode].status).toBe(status);
  }
});

test('the build writes each named schema as a JSON Schema file equal to the TypeBox object', () => {
  const dir = join(__dirname, '..', 'dist', 'schemas');
  for (const [name, schema] of Object.entries(wire.WIRE_SCHEMAS)) {
    const file = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    expect(file.$id).toBe(name);
    expect({ ...file, $schema: undefined, $id: undefined }).toEqual({ ...JSON.parse(JSON.stringify(schema)), $schema: undefined, $id: undefined });
  }
});
