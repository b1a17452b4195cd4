// GET /metrics through a real express app after a scripted scenario: exact family names, exact
// counts, low-cardinality labels only.
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { blankEvent, type StoredEvent } from '../schema/stored-event';
import { createTelemetry, type Telemetry } from '../telemetry';
import { parseTelemetryConfig } from './telemetry';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hit = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  if (hit.length > 1) throw new Error(`ambiguous ${name} ${JSON.stringify(labels)}`);
  return hit[0]?.value;
}

let seq = 0;
function ev(fields: Partial<StoredEvent> & Pick<StoredEvent, 'type' | 'user'>): StoredEvent {
  seq += 1;
  return blankEvent({ id: `e${seq}`, time: Date.now(), ...fields });
}

const gauges = { sessions: 3, locked: 2 };

describe('GET /metrics', () => {
  let telemetry: Telemetry;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    telemetry = createTelemetry({
      config: parseTelemetryConfig({}),
      gauges: { sessionsActive: async () => gauges.sessions, accountsLocked: async () => gauges.locked },
    });
    const app = express();
    app.use(telemetry.httpMiddleware);
    app.get('/metrics', telemetry.metricsHandler);
    const v1 = express.Router();
    v1.get('/sessions/:id', (_req, res) => {
      res.json({ ok: true });
    });
    app.use('/v1', v1);
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await telemetry.shutdown();
    await new Promise((r) => server.close(r));
  });

  async function scrape(): Promise<{ text: string; samples: Sample[]; types: Map<string, string> }> {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, ...parseExposition(text) };
  }

  test('scripted scenario: exact names, exact counts, no user/IP labels', async () => {
    const ip = '203.0.113.77';
    const batch: StoredEvent[] = [
      ...Array.from({ length: 4 }, () =>
        ev({ type: 'login', user: 'alice', outcome: 'failure', reason: 'invalid_password', service: 'payment-portal', ip }),
      ),
      ev({ type: 'login', user: 'bob', outcome: 'success', service: 'payment-portal', ip: '198.51.100.2' }),
      ev({ type: 'login', user: 'bob', outcome: 'success', service: 'payment-portal', ip: '198.51.100.2' }),
      ev({ type: 'login', user: 'carol', outcome: 'failure', reason: 'Not A Code!', service: 'payment-portal' }),
      ev({ type: 'lockout', user: 'alice', reason: 'max_failed_attempts', attributes: { scope: 'user_ip' } }),
      ev({ type: 'detection', user: 'alice', reason: 'password_spray', ip }),
      ev({ type: 'logout', user: 'bob', outcome: 'success' }),
    ];
    telemetry.sink.write(batch);
    telemetry.sink.write([ev({ type: 'login', user: 'dave', outcome: 'failure', reason: 'invalid_password', service: 'payment-portal' })]);
    telemetry.rejected(3);
    telemetry.rejected(2);

    expect((await fetch(`${base}/v1/sessions/abc123`)).status).toBe(200);
    expect((await fetch(`${base}/v1/sessions/def456`)).status).toBe(200);
    expect((await fetch(`${base}/v1/does-not-exist/xyz`)).status).toBe(404);

    const { text, samples, types } = await scrape();
    console.log(text);

    // Exactly the contract's families (plus the HTTP histogram), no target_info, no unit suffixes.
    expect([...types.keys()].sort()).toEqual(
      [
        'authwatch_accounts_locked',
        'authwatch_detections_total',
        'authwatch_events_ingested_total',
        'authwatch_events_rejected_total',
        'authwatch_http_request_duration_seconds',
        'authwatch_lockouts_total',
        'authwatch_login_attempts_total',
        'authwatch_sessions_active',
      ].sort(),
    );
    expect(types.get('authwatch_login_attempts_total')).toBe('counter');
    expect(types.get('authwatch_sessions_active')).toBe('gauge');
    expect(types.get('authwatch_http_request_duration_seconds')).toBe('histogram');

    const L = 'authwatch_login_attempts_total';
    expect(value(samples, L, { outcome: 'failure', reason: 'invalid_password', service: 'payment-portal' })).toBe(5);
    expect(value(samples, L, { outcome: 'success', reason: 'none', service: 'payment-portal' })).toBe(2);
    expect(value(samples, L, { outcome: 'failure', reason: 'other', service: 'payment-portal' })).toBe(1);
    expect(samples.filter((s) => s.name === L)).toHaveLength(3);

    expect(value(samples, 'authwatch_lockouts_total', { scope: 'user_ip' })).toBe(1);
    expect(value(samples, 'authwatch_lockouts_total', { scope: 'user' })).toBe(0);
    expect(value(samples, 'authwatch_detections_total', { kind: 'password_spray' })).toBe(1);
    expect(value(samples, 'authwatch_detections_total', { kind: 'brute_force' })).toBe(0);
    expect(value(samples, 'authwatch_events_rejected_total')).toBe(5);
    expect(value(samples, 'authwatch_events_ingested_total', { type: 'login' })).toBe(8);
    expect(value(samples, 'authwatch_events_ingested_total', { type: 'lockout' })).toBe(1);
    expect(value(samples, 'authwatch_events_ingested_total', { type: 'detection' })).toBe(1);
    expect(value(samples, 'authwatch_events_ingested_total', { type: 'logout' })).toBe(1);
    expect(value(samples, 'authwatch_events_ingested_total', { type: 'mfa' })).toBe(0);
    expect(value(samples, 'authwatch_sessions_active')).toBe(3);
    expect(value(samples, 'authwatch_accounts_locked')).toBe(2);

    const H = 'authwatch_http_request_duration_seconds_count';
    expect(value(samples, H, { route: '/v1/sessions/:id', method: 'GET', status: '200' })).toBe(2);
    expect(value(samples, H, { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    // Raw paths (with ids) never become labels.
    expect(text).not.toMatch(/abc123|def456|does-not-exist/);
    // Never a user, IP or session label.
    expect(text).not.toMatch(/alice|bob|carol|dave|203\.0\.113|198\.51\.100/);
    expect(text).not.toMatch(/otel_scope|target_info/);
  });

  test('gauges read the store at every scrape (true after a restart)', async () => {
    gauges.sessions = 41;
    gauges.locked = 0;
    const { samples } = await scrape();
    expect(value(samples, 'authwatch_sessions_active')).toBe(41);
    expect(value(samples, 'authwatch_accounts_locked')).toBe(0);
  });
});

describe('label vocabularies', () => {
  test('reasons outside the registry are "other"; past 50 service names, new ones are "other"', async () => {
    const telemetry = createTelemetry({ config: parseTelemetryConfig({}), gauges: { sessionsActive: async () => 0, accountsLocked: async () => 0 } });
    telemetry.sink.write(Array.from({ length: 150 }, (_, i) => ev({ type: 'login', user: `u${i}`, outcome: 'failure', reason: `reason_${i}`, service: `svc-${i}` })));
    const app = express();
    app.get('/metrics', telemetry.metricsHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const text = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
      const logins = parseExposition(text).samples.filter((s) => s.name === 'authwatch_login_attempts_total');
      expect(new Set(logins.map((s) => s.labels.reason))).toEqual(new Set(['other']));
      const services = new Set(logins.map((s) => s.labels.service));
      expect(services.size).toBe(51);
      expect(services.has('svc-49')).toBe(true);
      expect(services.has('svc-50')).toBe(false);
      expect(logins.filter((s) => s.labels.service === 'other').reduce((n, s) => n + s.value, 0)).toBe(100);
    } finally {
      await telemetry.shutdown();
      await new Promise((r) => server.close(r));
    }
  });

  test('a failing gauge source does not break the scrape', async () => {
    const telemetry = createTelemetry({
      config: parseTelemetryConfig({}),
      gauges: {
        sessionsActive: async () => {
          throw new Error('database is locked');
        },
        accountsLocked: async () => 7,
      },
    });
    const app = express();
    app.get('/metrics', telemetry.metricsHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      const { samples } = parseExposition(await res.text());
      expect(value(samples, 'authwatch_accounts_locked')).toBe(7);
      expect(value(samples, 'authwatch_sessions_active')).toBeUndefined();
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(/gauge read failed: database is locked/));
    } finally {
      errors.mockRestore();
      await telemetry.shutdown();
      await new Promise((r) => server.close(r));
    }
  });
});
