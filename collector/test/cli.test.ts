// The built CLI (collector/dist/main.js): prints the URL line scripts/start.mjs parses, accepts
// --port and --no-demo, refuses a non-loopback host without keys, exits 0 on SIGTERM after draining.
import { rmSync } from 'node:fs';
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
