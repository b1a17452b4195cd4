// GET /metrics of the real collector (composition root, SQLite file, real lockout and detection
// processors) after a scripted scenario: exact counts, including the lockout scope and detection
// kind taken from the events those processors make.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createCollector, type Collector } from '../app';
import { loadConfig } from '../config';
import { createLogger } from '../log';

let collector: Collector;
let url = '';
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authwatch-metrics-'));
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  collector = await createCollector(
    loadConfig({ AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${join(dir, 'a.db')}` }, []),
    createLogger(quiet),
  );
  url = (await collector.listen()).url;
});

afterAll(async () => {
  await collector.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(body: unknown): Promise<number> {
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('scripted scenario through the real collector: exact /metrics counts', async () => {
  const policy = (await (await fetch(`${url}/v1/policy`)).json()) as { max_failed_attempts: number; scope: string };
  expect(policy).toMatchObject({ max_failed_attempts: 5, scope: 'user' });

  expect(await post({ type: 'login', outcome: 'success', user: 'bob', ip: '198.51.100.7', service: 'shop', session_id: 's-1' })).toBe(202);
  // 6 failures: the 6th locks alice (scope user).
  const alice = Array.from({ length: 6 }, () => ({
    type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'alice', ip: '198.51.100.20', service: 'shop',
  }));
  expect(await post(alice)).toBe(202);
  // One IP, 11 different users failing: a password spray.
  const spray = Array.from({ length: 11 }, (_, i) => ({
    type: 'login', outcome: 'failure', reason: 'invalid_password', user: `sprayed${i}`, ip: '203.0.113.50', service: 'shop',
  }));
  expect(await post(spray)).toBe(202);
  // Refused as a whole (a password field): 3 events counted as rejected, none stored.
  expect(await post([{ type: 'login', user: 'x' }, { type: 'login', user: 'y' }, { type: 'login', user: 'z', password: 'p' }])).toBe(400);

  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  console.log(text.split('\n').filter((l) => !l.startsWith('#') && !l.includes('_bucket')).join('\n'));

  const L = 'authwatch_login_attempts_total';
  expect(sample(text, `${L}{outcome="failure",reason="invalid_password",service="shop"}`)).toBe(17);
  expect(sample(text, `${L}{outcome="success",reason="none",service="shop"}`)).toBe(1);
  expect(sample(text, 'authwatch_lockouts_total{scope="user"}')).toBe(1);
  expect(sample(text, 'authwatch_lockouts_total{scope="ip"}')).toBe(0);
  expect(sample(text, 'authwatch_detections_total{kind="password_spray"}')).toBe(1);
  expect(sample(text, 'authwatch_events_ingested_total{type="login"}')).toBe(18);
  expect(sample(text, 'authwatch_events_ingested_total{type="lockout"}')).toBe(1);
  expect(sample(text, 'authwatch_events_rejected_total')).toBe(3);
  expect(sample(text, 'authwatch_sessions_active')).toBe(1);
  expect(sample(text, 'authwatch_accounts_locked')).toBe(1);
  expect(sample(text, 'authwatch_http_request_duration_seconds_count{route="/v1/events",method="POST",status="202"}')).toBe(3);
  expect(sample(text, 'authwatch_http_request_duration_seconds_count{route="/v1/events",method="POST",status="400"}')).toBe(1);
  expect(sample(text, 'authwatch_http_request_duration_seconds_count{route="/v1/policy",method="GET",status="200"}')).toBe(1);
  expect(text).not.toMatch(/alice|bob|sprayed|198\.51\.100|203\.0\.113/);
});
