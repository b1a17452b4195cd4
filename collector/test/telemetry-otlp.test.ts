// OTLP/HTTP export against an in-process receiver (node:http on 127.0.0.1:0) that decodes the
// real payload: one record per stored event, semantic-convention attributes, session.id is the
// stored hash, no secret; metrics pushed over OTLP when configured; nothing when disabled.
//
// The exporter itself runs in a child node process: the OTLP exporter loads node:http with a
// dynamic import(), which jest's VM refuses without --experimental-vm-modules. The child calls
// createTelemetry({ config: parseTelemetryConfig(process.env) }) exactly as the collector does, so the OTEL_* variables
// really come from the environment.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testEnv } from './helpers/env';

type OtlpValue = string | number | boolean | null | OtlpValue[] | { [k: string]: OtlpValue };

interface JsonAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}

function anyValue(v: JsonAnyValue | undefined): OtlpValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return flatten(v.kvlistValue.values);
  return null;
}

function flatten(kvs: JsonKeyValue[] | undefined): Record<string, OtlpValue> {
  const out: Record<string, OtlpValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

interface ReceivedLogRecord {
  resource: Record<string, OtlpValue>;
  scope: string;
  eventName: string | undefined;
  severityNumber: number;
  severityText: string;
  body: OtlpValue;
  attributes: Record<string, OtlpValue>;
  timeUnixNano: string;
}

interface LogsPayload {
  resourceLogs?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeLogs?: {
      scope?: { name?: string };
      logRecords?: {
        eventName?: string;
        severityNumber?: number;
        severityText?: string;
        body?: JsonAnyValue;
        attributes?: JsonKeyValue[];
        timeUnixNano?: string | number;
      }[];
    }[];
  }[];
}

interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  json: unknown;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}

class OtlpReceiver {
  readonly requests: ReceivedRequest[] = [];
  private server: Server | undefined;
  url = '';

  /** HTTP status every request gets (200 = accept). */
  constructor(private readonly status = 200) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        if (String(req.headers['content-type']).startsWith('application/json')) json = JSON.parse(raw);
        this.requests.push({ path: req.url ?? '', headers: req.headers, raw, json });
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  logRecords(): ReceivedLogRecord[] {
    const out: ReceivedLogRecord[] = [];
    for (const r of this.requests.filter((q) => isObject(q.json) && 'resourceLogs' in q.json)) {
      for (const rl of (r.json as LogsPayload).resourceLogs ?? []) {
        const resource = flatten(rl.resource?.attributes);
        for (const sl of rl.scopeLogs ?? []) {
          for (const lr of sl.logRecords ?? []) {
            out.push({
              resource,
              scope: sl.scope?.name ?? '',
              eventName: lr.eventName,
              severityNumber: lr.severityNumber ?? 0,
              severityText: lr.severityText ?? '',
              body: anyValue(lr.body),
              attributes: flatten(lr.attributes),
              timeUnixNano: String(lr.timeUnixNano ?? ''),
            });
          }
        }
      }
    }
    return out;
  }

  /** Metric names seen in /v1/metrics payloads, with the sum of their data point values. */
  metricSums(): Map<string, number> {
    const sums = new Map<string, number>();
    type Dp = { asInt?: string | number; asDouble?: number; count?: string | number };
    type Metric = { name: string; sum?: { dataPoints?: Dp[] }; gauge?: { dataPoints?: Dp[] }; histogram?: { dataPoints?: Dp[] } };
    type Payload = { resourceMetrics?: { scopeMetrics?: { metrics?: Metric[] }[] }[] };
    for (const r of this.requests.filter((q) => isObject(q.json) && 'resourceMetrics' in q.json)) {
      for (const rm of (r.json as Payload).resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            const points = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? m.histogram?.dataPoints ?? [];
            // Cumulative: the last export holds the totals.
            sums.set(m.name, points.reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? p.count ?? 0), 0));
          }
        }
      }
    }
    return sums;
  }
}

// ---------------------------------------------------------------------------------------------

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';

const REPO = join(__dirname, '..', '..');

/** Transpiles .ts on require with @swc/core (the compiler @swc/jest uses), then drives the sink. */
const CHILD = `
const fs = require('fs');
const swc = require('@swc/core');
require.extensions['.ts'] = (m, filename) => m._compile(swc.transformSync(fs.readFileSync(filename, 'utf8'), {
  filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
}).code, filename);
const { createTelemetry } = require(${JSON.stringify(join(__dirname, '..', 'src', 'telemetry', 'index.ts'))});
const { parseTelemetryConfig } = require(${JSON.stringify(join(__dirname, '..', 'src', 'sinks', 'telemetry.ts'))});
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
(async () => {
  const t = createTelemetry({ config: parseTelemetryConfig(process.env), gauges: { sessionsActive: async () => 1, accountsLocked: async () => 0 } });
  for (const batch of input.batches) t.sink.write(batch);
  if (input.rejected) t.rejected(input.rejected);
  await t.sink.close();
  await t.shutdown();
  process.exit(0); // as the collector's main does after close()
})().catch((err) => { console.error(err); process.exit(1); });
`;

interface ChildInput {
  batches: StoredEvent[][];
  rejected?: number;
}

/** Runs createTelemetry in a fresh node process with exactly these OTEL_* variables. */
async function runTelemetry(otelEnv: Record<string, string>, input: ChildInput): Promise<string> {
  // A generous flush bound so a loaded machine cannot cut the final export short; the test of the
  // default bound overrides it.
  const env: NodeJS.ProcessEnv = {
    PATH: testEnv.PATH,
    HOME: testEnv.HOME,
    AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS: '30000',
    ...otelEnv,
  };
  const child = spawn(process.execPath, ['-e', CHILD], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(JSON.stringify(input));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`telemetry child exited ${code}:\n${output}`);
  return output;
}

const SESSION_HASH = 'b5a1f0c3d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f';

function scenario(): StoredEvent[] {
  const t = Date.parse('2026-11-24T09:00:00Z');
  const common = {
    user: 'alice',
    user_id: 'u-42',
    email: 'alice@example.com',
    session_id: SESSION_HASH,
    ip: '203.0.113.9',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    service: 'payment-portal',
    country: 'DE',
    city: 'Berlin',
    latitude: 52.52,
    longitude: 13.405,
    asn: 3320,
    isp: 'Deutsche Telekom AG',
    browser: 'Firefox',
    browser_version: '128.0',
    os: 'Linux',
    device_type: 'desktop',
    device: 'laptop-7',
  } satisfies Partial<StoredEvent>;
  return [
    blankEvent({ id: 'ev-ok', time: t, type: 'login', outcome: 'success', ...common,
      // A secret-looking key must never be exported, even if it got past validation.
      attributes: { plan: 'gold', mfa: true, db_password: 'hunter2', refresh_token: 'tok-SECRET-1' } }),
    blankEvent({ id: 'ev-fail', time: t + 1000, type: 'login', outcome: 'failure', reason: 'invalid_password', ...common }),
    blankEvent({ id: 'ev-lock', time: t + 2000, type: 'lockout', user: 'alice', ip: '203.0.113.9', reason: 'max_failed_attempts',
      attributes: { scope: 'user' } }),
    blankEvent({ id: 'ev-spray', time: t + 3000, type: 'detection', user: 'alice', ip: '203.0.113.9', reason: 'password_spray' }),
    blankEvent({ id: 'ev-end', time: t + 4000, type: 'session_end', outcome: 'success', reason: 'idle_timeout', user: 'alice',
      session_id: SESSION_HASH, country: 'private' }),
  ];
}

describe('OTLP/HTTP logs export', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    // Two batches, as two commits would deliver them.
    const events = scenario();
    await runTelemetry(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-otlp-key=k%20123,x-tenant=blue',
        OTEL_SERVICE_NAME: 'authwatch-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,service.namespace=auth',
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
      },
      { batches: [events.slice(0, 2), events.slice(2)] },
    );
  });

  afterAll(async () => {
    await receiver.stop();
  });

  test('one record per stored event, with a stable event name and severity', () => {
    const records = receiver.logRecords();
    expect(records.map((r) => r.attributes['authwatch.event.id'])).toEqual(['ev-ok', 'ev-fail', 'ev-lock', 'ev-spray', 'ev-end']);
    expect(records.map((r) => r.eventName)).toEqual([
      'authwatch.login', 'authwatch.login', 'authwatch.lockout', 'authwatch.detection', 'authwatch.session_end',
    ]);
    expect(records.map((r) => r.severityText)).toEqual(['INFO', 'WARN', 'WARN', 'ERROR', 'INFO']);
    expect(records.map((r) => r.severityNumber)).toEqual([9, 13, 13, 17, 9]);
    expect(records[1].body).toBe('Login failed for alice to payment-portal: invalid_password');
    expect(records[2].body).toBe('Locked alice (scope user): max_failed_attempts');
    // The event's own time, not the export time.
    expect(records[0].timeUnixNano).toBe(String(Date.parse('2026-11-24T09:00:00Z') * 1e6));
  });

  test('semantic-convention attributes; session.id is the stored hash', () => {
    const [ok, fail, lock, spray, end] = receiver.logRecords();
    expect(ok.attributes).toMatchObject({
      'user.name': 'alice',
      'user.id': 'u-42',
      'user.email': 'alice@example.com',
      'session.id': SESSION_HASH,
      'client.address': '203.0.113.9',
      'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
      'user_agent.name': 'Firefox',
      'user_agent.version': '128.0',
      'user_agent.os.name': 'Linux',
      'geo.country.iso_code': 'DE',
      'geo.locality.name': 'Berlin',
      'geo.location.lat': 52.52,
      'geo.location.lon': 13.405,
      'client.as.number': 3320,
      'client.as.organization': 'Deutsche Telekom AG',
      'authwatch.outcome': 'success',
      'authwatch.service': 'payment-portal',
      'authwatch.device': 'laptop-7',
      'authwatch.device.type': 'desktop',
      'authwatch.attr.plan': 'gold',
      'authwatch.attr.mfa': true,
    });
    expect(fail.attributes['authwatch.reason']).toBe('invalid_password');
    expect(lock.attributes['authwatch.lockout.scope']).toBe('user');
    expect(spray.attributes['authwatch.detection.kind']).toBe('password_spray');
    // "private" is not an ISO country code.
    expect(end.attributes['geo.country.iso_code']).toBeUndefined();
    expect(end.attributes['authwatch.network.scope']).toBe('private');
    // Custom attributes never land at the top level.
    expect(ok.attributes.plan).toBeUndefined();
  });

  test('no secret anywhere in what was sent', () => {
    const wire = receiver.requests.map((r) => r.raw).join('\n');
    expect(wire).toContain('authwatch.attr.plan');
    expect(wire).not.toMatch(/hunter2|tok-SECRET-1|db_password|refresh_token/);
  });

  test('resource and headers come from the OTEL_* variables', () => {
    const [rec] = receiver.logRecords();
    expect(rec.resource).toMatchObject({
      'service.name': 'authwatch-test',
      'service.namespace': 'auth',
      'deployment.environment.name': 'ci',
      'telemetry.sdk.language': 'nodejs',
    });
    const logsReq = receiver.requests.find((r) => r.path === '/v1/logs')!;
    expect(logsReq.headers['x-otlp-key']).toBe('k 123');
    expect(logsReq.headers['x-tenant']).toBe('blue');
    expect(logsReq.headers['content-type']).toMatch(/^application\/json/);
  });

  test('metrics are pushed over OTLP too (last export at shutdown)', () => {
    const sums = receiver.metricSums();
    expect(sums.get('authwatch_login_attempts')).toBe(2);
    expect(sums.get('authwatch_lockouts')).toBe(1);
    expect(sums.get('authwatch_detections')).toBe(1);
    expect(sums.get('authwatch_events_ingested')).toBe(5);
    expect(sums.get('authwatch_sessions_active')).toBe(1);
  });
});

describe('OTEL_* switches', () => {
  test('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT only: logs go there as given, metrics are not pushed', async () => {
    const receiver = await new OtlpReceiver().start();
    try {
      await runTelemetry({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.url}/custom/logs` }, { batches: [scenario().slice(0, 2)] });
    } finally {
      await receiver.stop();
    }
    expect(receiver.requests.map((r) => r.path)).toEqual(['/custom/logs']);
    expect(receiver.logRecords()).toHaveLength(2);
    expect(receiver.logRecords()[0].resource['service.name']).toBe('authwatch-collector');
  });

  test('OTEL_SDK_DISABLED=true: nothing is sent', async () => {
    const receiver = await new OtlpReceiver().start();
    try {
      await runTelemetry({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, { batches: [scenario()] });
    } finally {
      await receiver.stop();
    }
    expect(receiver.requests).toHaveLength(0);
  });

  test('OTEL_LOGS_EXPORTER=none keeps metrics, drops logs', async () => {
    const receiver = await new OtlpReceiver().start();
    try {
      await runTelemetry({ OTEL_LOGS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, { batches: [scenario()] });
    } finally {
      await receiver.stop();
    }
    expect(receiver.requests.map((r) => r.path)).toEqual(['/v1/metrics']);
  });

  test('OTEL_LOGS_EXPORTER=console prints records, sends nothing without an endpoint', async () => {
    const receiver = await new OtlpReceiver().start();
    let output: string;
    try {
      output = await runTelemetry({ OTEL_LOGS_EXPORTER: 'console' }, { batches: [scenario().slice(1, 2)] });
    } finally {
      await receiver.stop();
    }
    expect(output).toContain('authwatch.login');
    expect(output).toContain('Login failed for alice');
    expect(receiver.requests).toHaveLength(0);
  });

  test('a full 10,000-event batch gives 10,000 records (the queue holds a whole batch)', async () => {
    const receiver = await new OtlpReceiver().start();
    const [template] = scenario();
    const batch = Array.from({ length: 10_000 }, (_, i) => ({ ...template, id: `bulk-${i}` }));
    try {
      await runTelemetry({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.url}/v1/logs` }, { batches: [batch] });
    } finally {
      await receiver.stop();
    }
    const ids = new Set(receiver.logRecords().map((r) => r.attributes['authwatch.event.id']));
    console.log(`10,000 events → ${ids.size} distinct records in ${receiver.requests.length} OTLP requests`);
    expect(ids.size).toBe(10_000);
  }, 60_000);

  test('a backend refusing the export (HTTP 400) is reported on stderr', async () => {
    const receiver = await new OtlpReceiver(400).start();
    let output: string;
    try {
      output = await runTelemetry({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.url}/v1/logs` }, { batches: [scenario()] });
    } finally {
      await receiver.stop();
    }
    console.log(output);
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(output).toMatch(/authwatch telemetry: export failed: /);
  }, 60_000);

  test('an unreachable backend does not hang shutdown: the child exits after reporting it', async () => {
    const receiver = await new OtlpReceiver().start();
    await receiver.stop(); // nothing listens on this port any more
    const t0 = Date.now();
    // runTelemetry fails the test if the child does not exit 0 (jest's timeout catches a hang).
    const output = await runTelemetry(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS: '' },
      { batches: [scenario()] },
    );
    console.log(`child finished in ${Date.now() - t0} ms:\n${output}`);
    // Either the exporter gave up retrying first, or our 4 s flush/shutdown bound cut it short.
    expect(output).toMatch(/export failed: .*ECONNREFUSED|not flushed after 4000 ms; giving up/);
  }, 60_000);

  test('only what reaches the sink is exported: rejected events produce no record, only a count', async () => {
    // The collector calls sink.write() only after a commit; a refused batch never reaches it and is
    // reported through rejected(n). The real-app version of this is in telemetry-app.test.ts.
    const receiver = await new OtlpReceiver().start();
    try {
      await runTelemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, { batches: [scenario().slice(1, 2)], rejected: 3 });
    } finally {
      await receiver.stop();
    }
    expect(receiver.logRecords().map((r) => r.attributes['authwatch.event.id'])).toEqual(['ev-fail']);
    expect(receiver.metricSums().get('authwatch_events_rejected')).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------
// The real collector (src/main.ts, run from source in a child process, temp SQLite file) exporting
// to the receiver: a refused batch leaves no record, a stored one leaves exactly one per event.

const APP_CHILD = `
const fs = require('fs');
const swc = require('@swc/core');
require.extensions['.ts'] = (m, filename) => m._compile(swc.transformSync(fs.readFileSync(filename, 'utf8'), {
  filename, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' },
}).code, filename);
require(${JSON.stringify(join(__dirname, '..', 'src', 'main.ts'))}).serveMain([]);
`;

describe('the real collector exports one record per stored event', () => {
  const RAW_SESSION = 'raw-session-id-Zq81';
  let receiver: OtlpReceiver;
  let stored: { id: string; user: string; session_id: string | null }[] = [];
  let refusedStatus = 0;
  let appOutput = '';

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    const dir = mkdtempSync(join(tmpdir(), 'authwatch-otlp-app-'));
    const child = spawn(process.execPath, ['-e', APP_CHILD], {
      cwd: REPO,
      env: {
        PATH: testEnv.PATH,
        HOME: testEnv.HOME,
        AUTHWATCH_HOST: '127.0.0.1',
        AUTHWATCH_PORT: '0',
        AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BLRP_SCHEDULE_DELAY: '100',
        AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS: '30000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (appOutput += d.toString()));
    child.stderr.on('data', (d: Buffer) => (appOutput += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`collector did not start:\n${appOutput}`)), 30_000);
        const check = () => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(appOutput);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`collector exited:\n${appOutput}`));
          } else setTimeout(check, 100);
        };
        check();
      });
      const post = (body: unknown) =>
        fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const ok = await post([
        { type: 'login', outcome: 'success', user: 'bob', ip: '203.0.113.8', service: 'shop', session_id: RAW_SESSION,
          user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36' },
        { type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'carol', ip: '203.0.113.9', service: 'shop' },
      ]);
      expect(ok.status).toBe(202);
      // Refused as a whole: one event carries a password. Nothing of it may be exported.
      const refused = await post([
        { type: 'login', outcome: 'success', user: 'mallory', ip: '203.0.113.66' },
        { type: 'login', outcome: 'failure', user: 'mallory', password: 'hunter2-refused' },
      ]);
      refusedStatus = refused.status;
      stored = ((await (await fetch(`${url}/v1/events?limit=100`)).json()) as { events: typeof stored }).events;
    } finally {
      child.kill('SIGTERM'); // graceful: drains, flushes the log batch and the last metrics export
      await exited;
      rmSync(dir, { recursive: true, force: true });
      await receiver.stop();
    }
  }, 60_000);

  test('refused batch: 400, no record; stored events: exactly one record each', () => {
    expect(refusedStatus).toBe(400);
    const records = receiver.logRecords();
    console.log(`stored ${stored.length} events (${stored.map((e) => e.user).join(', ')}); exported ${records.length} log records`);
    expect(stored.filter((e) => e.user === 'bob' || e.user === 'carol')).toHaveLength(2);
    expect(records.map((r) => r.attributes['authwatch.event.id']).sort()).toEqual(stored.map((e) => e.id).sort());
    expect(records.some((r) => r.attributes['user.name'] === 'mallory')).toBe(false);
    expect(receiver.metricSums().get('authwatch_events_rejected')).toBe(2);
  });

  test('session.id is the stored keyed hash; the raw id and the password never leave', () => {
    const bob = receiver.logRecords().find((r) => r.attributes['user.name'] === 'bob')!;
    const storedBob = stored.find((e) => e.user === 'bob')!;
    expect(bob.attributes['session.id']).toBe(storedBob.session_id);
    expect(bob.attributes['session.id']).toMatch(/^[0-9a-f]{64}$/);
    expect(bob.attributes['user_agent.name']).toBe('Chrome');
    const wire = receiver.requests.map((r) => r.raw).join('\n');
    expect(wire).not.toContain(RAW_SESSION);
    expect(wire).not.toContain('hunter2-refused');
    expect(appOutput).not.toContain(RAW_SESSION);
  });
});
