// The OpenAPI document is derived from the validation schemas; key and config parsing rules.
import { createHash } from 'node:crypto';
import { KeyRing, parseKeys } from '../src/auth/keys';
import { ConfigError, isLoopback, loadConfig } from '../src/config';
import { INGEST_TYPES } from '../src/schema/stored-event';
import { startServer, type TestServer } from './helpers/server';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s.stop(true);
});

test('GET /v1/openapi.json: OpenAPI 3.1 with the event schema the collector validates with', async () => {
  const r = await s.get('/v1/openapi.json');
  expect(r.status).toBe(200);
  const doc = r.body;
  expect(doc.openapi).toBe('3.1.0');
  const event = doc.components.schemas.Event;
  expect(event.required).toEqual(expect.arrayContaining(['type', 'user']));
  expect(event.additionalProperties).toBe(false);
  expect(event.properties.type.anyOf.map((t: any) => t.const)).toEqual([...INGEST_TYPES]);
  expect(event.properties.attributes.anyOf[0].maxProperties).toBe(32);
  // The reason-code table travels in the descriptions.
  expect(event.properties.reason.anyOf[0].description).toContain('`invalid_password`');
  expect(doc.info.description).toContain('`idle_timeout`');
  for (const path of ['/v1/events', '/v1/logs', '/v1/events.csv', '/v1/check', '/v1/timeseries', '/v1/stats', '/v1/values/{field}', '/v1/sessions', '/v1/sessions/{id}', '/v1/sessions/{id}/terminate', '/v1/users/{user}/sessions/terminate', '/v1/lockouts', '/v1/users/{user}/unlock', '/v1/ips/{ip}/unlock', '/v1/blocklist', '/v1/policy', '/v1/whoami', '/healthz', '/metrics']) {
    expect(Object.keys(doc.paths)).toContain(path);
  }
  expect(doc.components.schemas.Policy.properties.escalation.anyOf.map((t: any) => t.const)).toEqual(['none', 'linear', 'multiple']);
});

test('key entries: secret or name:secret; default name from the digest; only matching keys authenticate', () => {
  const keys = parseKeys('read', ' grafana:s3cret , plain-secret ,,');
  const digest = createHash('sha256').update('plain-secret').digest('hex');
  expect(keys.map((k) => [k.name, k.role])).toEqual([
    ['grafana', 'read'],
    [`read-${digest.slice(0, 6)}`, 'read'],
  ]);
  const ring = new KeyRing([...keys, ...parseKeys('admin', 'ops:adm')]);
  expect(ring.find('s3cret')?.name).toBe('grafana');
  expect(ring.find('adm')?.role).toBe('admin');
  expect(ring.find('grafana:s3cret')).toBeUndefined();
  expect(ring.find('nope')).toBeUndefined();
  // Keys are kept as digests only.
  expect(JSON.stringify(ring.keys)).not.toContain('s3cret');
});

test('config: defaults, flags over env, loopback rule, bad values', () => {
  const c = loadConfig({}, []);
  expect(c).toMatchObject({ host: '127.0.0.1', port: 4600, store: 'sqlite:./data/authwatch.db', hideDetails: false, sweepSeconds: 30 });
  expect(loadConfig({ AUTHWATCH_PORT: '5000' }, ['--port', '0', '--no-demo']).port).toBe(0);
  expect(loadConfig({}, ['--port=7']).port).toBe(7);
  expect(() => loadConfig({ AUTHWATCH_HOST: '0.0.0.0' }, [])).toThrow(ConfigError);
  expect(loadConfig({ AUTHWATCH_HOST: '0.0.0.0', AUTHWATCH_READ_KEYS: 'r' }, []).host).toBe('0.0.0.0');
  expect(() => loadConfig({ AUTHWATCH_SWEEP_SECONDS: '0' }, [])).toThrow(/AUTHWATCH_SWEEP_SECONDS/);
  expect(() => loadConfig({ AUTHWATCH_SESSION_KEY: 'short' }, [])).toThrow(/at least 16/);
  expect(loadConfig({ AUTHWATCH_HIDE_DETAILS: '1' }, []).hideDetails).toBe(true);
  expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
  expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false);
});
