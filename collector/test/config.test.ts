// Configuration is read once, validated, frozen; --print-config shows it without any secret.
import { loadConfig } from '../src/config';
import { buildCollectorIfStale, spawnCollector } from './helpers/spawn-collector';

test('the configuration is frozen: nothing can change it after start', () => {
  const c = loadConfig({ AUTHWATCH_DETECT_BRUTE_FORCE_FAILURES: '9' }, []);
  expect(Object.isFrozen(c)).toBe(true);
  expect(Object.isFrozen(c.detections.bruteForce)).toBe(true);
  expect(() => {
    (c as { port: number }).port = 1;
  }).toThrow(TypeError);
  expect(c.detections.bruteForce.failures).toBe(9);
});

test('a bad value of any component is refused at start, naming the variable', () => {
  expect(() => loadConfig({ AUTHWATCH_DETECT_BRUTE_FORCE_FAILURES: 'lots' }, [])).toThrow(/AUTHWATCH_DETECT_BRUTE_FORCE_FAILURES/);
  expect(() => loadConfig({ AUTHWATCH_RETENTION_DAYS: '-3' }, [])).toThrow(/AUTHWATCH_RETENTION_DAYS/);
  expect(() => loadConfig({ AUTHWATCH_WEBHOOK_URL: 'ftp://x/' }, [])).toThrow(/AUTHWATCH_WEBHOOK_URL/);
  expect(() => loadConfig({ AUTHWATCH_MAX_CLOCK_SKEW_SECONDS: 'soon' }, [])).toThrow(/AUTHWATCH_MAX_CLOCK_SKEW_SECONDS/);
});

test('--print-config prints the effective configuration with every secret redacted', async () => {
  buildCollectorIfStale();
  const secrets = ['admin-key-s3cret', 'ingest-key-s3cret', 'hook-s3cret', 'T0KEN-in-path', 'otlp-s3cret', 'pg-s3cret', 'session-key-s3cret-0123'];
  const p = spawnCollector(['--print-config', '--port', '4999'], {
    AUTHWATCH_ADMIN_KEYS: `ops:${secrets[0]}`,
    AUTHWATCH_INGEST_KEYS: secrets[1],
    AUTHWATCH_WEBHOOK_URL: `https://hooks.example/services/${secrets[3]}`,
    AUTHWATCH_WEBHOOK_SECRET: secrets[2],
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${secrets[4]}`,
    AUTHWATCH_STORE: `postgres://authwatch:${secrets[5]}@db.example/authwatch`,
    AUTHWATCH_SESSION_KEY: secrets[6],
  });
  expect(await p.exit).toBe(0);
  const printed = p.out();
  for (const s of secrets) expect(printed).not.toContain(s);
  const c = JSON.parse(printed);
  expect(c.port).toBe(4999);
  expect(c.keys).toHaveLength(2);
  expect(c.keys).toEqual(expect.arrayContaining([{ name: 'ops', role: 'admin', secret: '[redacted]' }, expect.objectContaining({ role: 'ingest', secret: '[redacted]' })]));
  expect(c.store).toBe('postgres://authwatch:redacted@db.example/authwatch');
  expect(c.notifications.webhook.url).toBe('https://hooks.example/[redacted]');
  expect(c.telemetry.otel.logs.otlp.headers).toEqual({ authorization: '[redacted]' });
});
