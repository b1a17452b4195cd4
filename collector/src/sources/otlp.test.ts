// POST /v1/logs against the real collector (express, SQLite file) with payloads made by the real
// OpenTelemetry JS SDK: its OTLP/HTTP exporter sends straight to the collector, and its JSON and
// protobuf serializers make the bodies the protobuf/JSON cases post. Events come back through
// GET /v1/events. The SDK runs in a child node process: the exporter loads node:http with a
// dynamic import(), which jest's VM refuses (as in sinks/telemetry-otlp.test.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { KEYS, startServer, type TestServer } from '../../test/helpers/server';
import { decodeLogsResponse } from './otlp-proto';
import { testEnv } from '../../test/helpers/env';

const REPO = join(__dirname, '..', '..', '..');

const CHILD = `
const fs = require('fs');
const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');
const { JsonLogsSerializer, ProtobufLogsSerializer } = require('@opentelemetry/otlp-transformer');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
(async () => {
  const memory = new InMemoryLogRecordExporter();
  const processors = [new SimpleLogRecordProcessor({ exporter: memory })];
  if (input.url) {
    processors.push(new SimpleLogRecordProcessor({
      exporter: new OTLPLogExporter({ url: input.url + '/v1/logs', headers: { authorization: 'Bearer ' + input.key } }),
    }));
  }
  const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': input.service }), processors });
  const logger = provider.getLogger('app-auth');
  for (const r of input.records) logger.emit(r);
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  const out = {
    json: Buffer.from(JsonLogsSerializer.serializeRequest(records)).toString('utf8'),
    protobuf: Buffer.from(ProtobufLogsSerializer.serializeRequest(records)).toString('base64'),
  };
  await provider.shutdown();
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
`;

interface SdkRecord {
  eventName?: string;
  body?: string;
  timestamp?: number;
  attributes?: Record<string, string | number | boolean>;
}

/** Emits records with the SDK; exports them to `url` when given; returns the serialized payloads. */
async function sdk(records: SdkRecord[], opts: { url?: string; service?: string } = {}): Promise<{ json: string; protobuf: Buffer }> {
  const child = spawn(process.execPath, ['-e', CHILD], { cwd: REPO, env: { PATH: testEnv.PATH, HOME: testEnv.HOME }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(JSON.stringify({ records, url: opts.url, key: KEYS.ingest, service: opts.service ?? 'shop-web' }));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`SDK child exited ${code}: ${err}`);
  const parsed = JSON.parse(out) as { json: string; protobuf: string };
  return { json: parsed.json, protobuf: Buffer.from(parsed.protobuf, 'base64') };
}

const T0 = Date.parse('2026-11-24T08:00:00Z');

const loginFailure: SdkRecord = {
  eventName: 'authwatch.login',
  body: 'Login failed for alice',
  timestamp: T0,
  attributes: {
    'user.name': 'alice', 'user.id': 'u-1', 'user.email': 'alice@example.com', 'client.address': '203.0.113.9',
    'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    'authwatch.outcome': 'failure', 'authwatch.reason': 'invalid_password', 'authwatch.attr.tenant': 'acme',
  },
};
const loginSuccess: SdkRecord = {
  body: 'alice logged in',
  timestamp: T0 + 1000,
  attributes: { 'event.name': 'login', 'event.outcome': 'success', 'user.name': 'alice', 'session.id': 'raw-session-77', 'client.address': '2001:db8::9' },
};
const noise: SdkRecord = { body: 'GET /health 200', timestamp: T0 + 2000, attributes: { 'http.response.status_code': 200 } };

async function postRaw(s: TestServer, body: Buffer | string, contentType: string, key: 'ingest' | 'read' = 'ingest') {
  const res = await fetch(`${s.url}/v1/logs`, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${KEYS[key]}` }, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', bytes: Buffer.from(await res.arrayBuffer()) };
}

async function events(s: TestServer, query = '') {
  const r = await s.get(`/v1/events?limit=100${query}`);
  expect(r.status).toBe(200);
  return r.body.events as Record<string, unknown>[];
}

describe('POST /v1/logs (OTLP/HTTP)', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startServer();
  });
  afterEach(async () => {
    await s.stop(true);
  });

  test('the SDK exporter sends to the collector; auth events come back through GET /v1/events', async () => {
    await sdk([loginFailure, loginSuccess, noise], { url: s.url, service: 'shop-web' });
    const list = await events(s);
    expect(list).toHaveLength(2);
    const fail = list.find((e) => e.outcome === 'failure')!;
    expect(fail).toMatchObject({
      type: 'login', user: 'alice', user_id: 'u-1', email: 'alice@example.com', reason: 'invalid_password', ip: '203.0.113.9',
      service: 'shop-web', browser: 'Firefox', time: T0, attributes: { tenant: 'acme' },
    });
    const ok = list.find((e) => e.outcome === 'success')!;
    expect(ok).toMatchObject({ type: 'login', user: 'alice', ip: '2001:db8::9', time: T0 + 1000 });
    // The session id is stored as the keyed hash, never raw; the session is open.
    expect(ok.session_id).toBe(s.collector.hashSessionId('raw-session-77'));
    expect(JSON.stringify(list)).not.toContain('raw-session-77');
    const sessions = await s.get('/v1/sessions?state=active');
    expect(sessions.body.sessions.map((x: { user: string }) => x.user)).toEqual(['alice']);
  });

  test('JSON payload from the SDK serializer: partial success counts the records that are not auth events', async () => {
    const { json } = await sdk([loginFailure, noise, noise]);
    const r = await postRaw(s, json, 'application/json');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.bytes.toString())).toEqual({
      partialSuccess: { rejectedLogRecords: 2, errorMessage: expect.stringContaining('2 of 3 log records are not authentication events') },
    });
    expect(await events(s)).toHaveLength(1);
    // An exporter's retry of the same payload stores nothing twice.
    expect((await postRaw(s, json, 'application/json')).status).toBe(200);
    expect(await events(s)).toHaveLength(1);
  });

  test('protobuf payload from the SDK serializer: stored, protobuf response', async () => {
    const { protobuf } = await sdk([loginFailure, loginSuccess, noise]);
    const r = await postRaw(s, protobuf, 'application/x-protobuf');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/x-protobuf/);
    expect(decodeLogsResponse(r.bytes)).toEqual({ partialSuccess: { rejectedLogRecords: 1, errorMessage: expect.stringContaining('1 of 3') } });
    const list = await events(s);
    expect(list.map((e) => `${e.type}:${e.outcome}:${e.user}:${e.ip}`).sort()).toEqual(['login:failure:alice:203.0.113.9', 'login:success:alice:2001:db8::9']);
    expect(list.find((e) => e.outcome === 'failure')).toMatchObject({ time: T0, reason: 'invalid_password', service: 'shop-web' });
  });

  test('gzip-compressed protobuf (exporters with compression: gzip) is accepted', async () => {
    const { protobuf } = await sdk([loginFailure]);
    const res = await fetch(`${s.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', authorization: `Bearer ${KEYS.ingest}` },
      body: gzipSync(protobuf),
    });
    expect(res.status).toBe(200);
    expect(decodeLogsResponse(Buffer.from(await res.arrayBuffer()))).toEqual({});
    expect((await events(s)).map((e) => e.reason)).toEqual(['invalid_password']);
  });

  test('no auth events at all: 200 with every record counted as rejected, nothing stored', async () => {
    const { json } = await sdk([noise, noise]);
    const r = await postRaw(s, json, 'application/json');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.bytes.toString()).partialSuccess.rejectedLogRecords).toBe(2);
    expect(await events(s)).toHaveLength(0);
  });

  test('only auth events: empty response, no partial success', async () => {
    const { json } = await sdk([loginFailure]);
    const r = await postRaw(s, json, 'application/json');
    expect([r.status, JSON.parse(r.bytes.toString())]).toEqual([200, {}]);
  });

  test('an invalid auth event refuses the whole request (same validation as /v1/events), nothing stored', async () => {
    const bad: SdkRecord = { eventName: 'authwatch.login', timestamp: T0, attributes: { 'user.name': 'bob', 'client.address': 'not-an-ip' } };
    const secret: SdkRecord = { eventName: 'authwatch.login', timestamp: T0, attributes: { 'user.name': 'eve', 'authwatch.attr.password': 'hunter2' } };
    const { json, protobuf } = await sdk([loginFailure, bad, secret]);
    const r = await postRaw(s, json, 'application/json');
    expect(r.status).toBe(400);
    const body = JSON.parse(r.bytes.toString());
    expect(body.code).toBe(3);
    expect(body.message).toMatch(/nothing stored/);
    expect(body.details).toEqual(expect.arrayContaining([
      expect.objectContaining({ index: 1, path: 'ip' }),
      expect.objectContaining({ index: 2, path: 'attributes.password' }),
    ]));
    const p = await postRaw(s, protobuf, 'application/x-protobuf');
    expect(p.status).toBe(400);
    expect(p.type).toMatch(/^application\/x-protobuf/);
    expect(await events(s)).toHaveLength(0);
    expect(JSON.stringify(await s.get('/v1/events.csv'))).not.toContain('hunter2');
  });

  test('the lockout engine sees OTLP failures like any other', async () => {
    const fails = Array.from({ length: 6 }, (_, i) => ({ ...loginFailure, timestamp: Date.now() - 10_000 + i }));
    const { json } = await sdk(fails);
    expect((await postRaw(s, json, 'application/json')).status).toBe(200);
    const locks = await s.get('/v1/lockouts?state=locked');
    expect(locks.body.lockouts.map((l: { user: string; scope: string }) => `${l.user}:${l.scope}`)).toContain('alice:user');
  });

  test('bad input: 415 other types, 400 malformed protobuf, 401 without a key, 403 with a read key', async () => {
    expect((await postRaw(s, 'x', 'text/plain')).status).toBe(415);
    const junk = await postRaw(s, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'application/x-protobuf');
    expect(junk.status).toBe(400);
    expect((await postRaw(s, '[1,2]', 'application/json')).status).toBe(400);
    const anon = await fetch(`${s.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anon.status).toBe(401);
    expect((await postRaw(s, '{}', 'application/json', 'read')).status).toBe(403);
  });
});
