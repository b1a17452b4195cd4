// The built CLI (collector/dist/main.js): prints the URL line scripts/start.mjs parses, accepts
// --port and --no-demo, refuses a non-loopback host without keys, exits 0 on SIGTERM after draining;
// --help prints usage and exits 0, an unknown flag is a usage error (exit 2).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/server';
import { buildCollectorIfStale, listeningUrl, spawnCollector } from './helpers/spawn-collector';

beforeAll(buildCollectorIfStale, 180_000);

test('refuses to start on 0.0.0.0 without keys (exit 1, clear message)', async () => {
  const dir = tempDir();
  const p = spawnCollector([], { AUTHWATCH_HOST: '0.0.0.0', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dir}/a.db` });
  expect(await p.exit).toBe(1);
  expect(p.err()).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/);
  rmSync(dir, { recursive: true, force: true });
});

test('rejects a bad port with a clear message', async () => {
  const p = spawnCollector(['--port', 'eighty'], { AUTHWATCH_STORE: 'sqlite:/tmp/never-created.db' });
  expect(await p.exit).toBe(1);
  expect(p.err()).toMatch(/port "eighty" is not a TCP port/);
});

test('starts with --port 0 --no-demo, prints the URL, serves, drains and exits 0 on SIGTERM', async () => {
  const dir = tempDir();
  const p = spawnCollector(['--port', '0', '--no-demo'], { AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_STORE: `sqlite:${dir}/a.db`, AUTHWATCH_INGEST_KEYS: 'k1' });
  try {
    const url = await listeningUrl(p, 'the collector', 15_000);
    expect(p.out()).toMatch(/authwatch collector listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(p.out()).toContain(`store: sqlite:${dir}/a.db`);
    expect(p.out()).toMatch(/curl -s -X POST .*\/v1\/events/);
    expect(p.err()).not.toMatch(/NO API KEYS/);
    // A batch in flight when SIGTERM arrives is still committed and answered.
    const inflight = fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer k1', 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: `drain-${i}`, type: 'login', user: 'u' }))),
    });
    const res = await inflight;
    p.child.kill('SIGTERM');
    expect(res.status).toBe(202);
    expect(await p.exit).toBe(0);
    expect(p.err()).toMatch(/"msg":"stopped"/);
  } finally {
    p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without keys on loopback it starts and warns loudly', async () => {
  const dir = tempDir();
  const p = spawnCollector(['--port=0'], { AUTHWATCH_STORE: `sqlite:${dir}/a.db` });
  try {
    await listeningUrl(p, 'the collector', 15_000);
    expect(p.err()).toMatch(/NO API KEYS CONFIGURED/);
  } finally {
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help prints the usage and exits 0 without starting a server or creating a store', async () => {
  const dir = tempDir();
  const p = spawnCollector(['--help'], { AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dir}/sub/a.db` });
  expect(await p.exit).toBe(0);
  expect(p.out()).toMatch(/^Usage: authwatch-collector \[options\]/);
  expect(p.err()).toBe('');
  for (const flag of ['--host <host>', '--port <port>', '--store <url>', '--no-demo', '--authlog <path>', '--follow', '--once', '--authlog-tz <tz>', '--authlog-to <url>']) {
    expect(p.out()).toContain(flag);
  }
  expect(p.out()).not.toMatch(/listening on/);
  expect(existsSync(join(dir, 'sub'))).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

test('an unknown flag or a stray argument is a usage error (exit 2, message and usage on stderr), nothing starts', async () => {
  const dir = tempDir();
  for (const args of [['--prot', '4600'], ['--port', '0', 'serve-me'], ['-x']]) {
    const p = spawnCollector(args, { AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dir}/sub/a.db` });
    expect(await p.exit).toBe(2);
    expect(p.err()).toMatch(/^authwatch-collector: (Unknown option '(--prot|-x)'|Unexpected argument 'serve-me')/);
    expect(p.err()).toMatch(/Usage: authwatch-collector \[options\]/);
    expect(p.out()).not.toMatch(/listening on/);
  }
  expect(existsSync(join(dir, 'sub'))).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});
