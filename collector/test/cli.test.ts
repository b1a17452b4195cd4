// The built CLI (collector/dist/main.js): prints the URL line scripts/start.mjs parses, accepts
// --port and --no-demo, refuses a non-loopback host without keys, exits 0 on SIGTERM after draining.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/server';

const root = join(__dirname, '..');
const main = join(root, 'dist', 'main.js');

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

beforeAll(() => {
  // Build when dist is missing or older than the sources (CI builds first anyway).
  if (!existsSync(main) || statSync(main).mtimeMs < newestMtime(join(root, 'src'))) {
    const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`collector build failed:\n${r.stdout}${r.stderr}`);
  }
}, 180_000);

function run(args: string[], env: Record<string, string>): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function waitFor(pred: () => boolean, what: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('refuses to start on 0.0.0.0 without keys (exit 1, clear message)', async () => {
  const dir = tempDir();
  const p = run([], { AUTHWATCH_HOST: '0.0.0.0', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dir}/a.db` });
  expect(await p.exit).toBe(1);
  expect(p.err()).toMatch(/refusing to listen on 0\.0\.0\.0 without API keys/);
  rmSync(dir, { recursive: true, force: true });
});

test('rejects a bad port with a clear message', async () => {
  const p = run(['--port', 'eighty'], { AUTHWATCH_STORE: 'sqlite:/tmp/never-created.db' });
  expect(await p.exit).toBe(1);
  expect(p.err()).toMatch(/port "eighty" is not a TCP port/);
});

test('starts with --port 0 --no-demo, prints the URL, serves, drains and exits 0 on SIGTERM', async () => {
  const dir = tempDir();
  const p = run(['--port', '0', '--no-demo'], { AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_STORE: `sqlite:${dir}/a.db`, AUTHWATCH_INGEST_KEYS: 'k1' });
  try {
    await waitFor(() => /authwatch collector listening on http:\/\/127\.0\.0\.1:\d+/.test(p.out()), 'the listening line');
    const url = /listening on (http:\/\/\S+)/.exec(p.out())![1];
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
  const p = run(['--port=0'], { AUTHWATCH_STORE: `sqlite:${dir}/a.db` });
  try {
    await waitFor(() => p.out().includes('listening on'), 'the listening line');
    expect(p.err()).toMatch(/NO API KEYS CONFIGURED/);
  } finally {
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }
});
