// The client as an application gets it: `npm pack` (with the wire contract package its types
// import) → installed into a fresh app outside this repository → a login route guarded against a
// live collector locks with 429 + Retry-After, and the app's TypeScript sees the event type.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS, startCollector, type LiveCollector } from './live-collector';

const clientDir = join(__dirname, '..');
const wireDir = join(clientDir, '..', 'wire');
const tsc = join(clientDir, '..', 'node_modules', '.bin', 'tsc');
let collector: LiveCollector;
let appDir: string;
let stopApp: (() => void) | undefined;

beforeAll(async () => {
  collector = await startCollector();
  appDir = mkdtempSync(join(tmpdir(), 'authwatch-client-app-'));
}, 60_000);
afterAll(async () => {
  stopApp?.();
  await collector?.dispose();
  rmSync(appDir, { recursive: true, force: true });
});

function attempt(cmd: string, args: string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = attempt(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('npm pack → npm install in a fresh app → guardLogin locks with 429 and Retry-After', async () => {
  run('npm', ['pack', '--pack-destination', appDir], clientDir);
  const tarball = readdirSync(appDir).find((f) => f.startsWith('authwatch-client-'))!;
  expect(tarball).toMatch(/^authwatch-client-\d+\.\d+\.\d+\.tgz$/);
  // The client's types import the wire contract (published beside it as @authwatch/wire).
  run('npm', ['pack', '--pack-destination', appDir], wireDir);
  const wireTarball = readdirSync(appDir).find((f) => f.startsWith('authwatch-wire-'))!;
  expect(wireTarball).toMatch(/^authwatch-wire-\d+\.\d+\.\d+\.tgz$/);
  const wireListing = run('tar', ['-tzf', join(appDir, wireTarball)], appDir).split('\n').filter(Boolean);
  expect(wireListing).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/schemas/StoredEvent.json']));
  expect(wireListing.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  const listing = run('tar', ['-tzf', join(appDir, tarball)], appDir).split('\n').filter(Boolean).sort();
  expect(listing).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/README.md', 'package/LICENSE', 'package/package.json']));
  expect(listing.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);

  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'guarded-app', private: true, version: '1.0.0' }));
  // express from the registry (or the npm cache): what a real app has.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${wireTarball}`, `./${tarball}`, 'express@5'], appDir);

  // Types: an app's TypeScript accepts a real event and refuses an event type the collector refuses
  // (were @authwatch/wire missing, AuthwatchEvent would silently be any and both would compile).
  writeFileSync(
    join(appDir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', skipLibCheck: true, types: [] } }),
  );
  writeFileSync(
    join(appDir, 'good.ts'),
    `import { AuthwatchClient, type AuthwatchEvent, type DenyReason } from '@authwatch/client';
const event: AuthwatchEvent = { type: 'login', user: 'packed-user', outcome: 'failure', reason: 'invalid_password', attributes: { tries: 2 } };
const reason: DenyReason = 'user_locked';
new AuthwatchClient({ url: 'http://127.0.0.1:4600' }).report(event);
export { reason };
`,
  );
  const good = attempt(tsc, ['-p', '.'], appDir);
  expect(good.stdout + good.stderr).toBe('');
  expect(good.status).toBe(0);
  writeFileSync(join(appDir, 'bad.ts'), `import type { AuthwatchEvent } from '@authwatch/client';\nexport const e: AuthwatchEvent = { type: 'lockout', user: 'x' };\n`);
  const bad = attempt(tsc, ['-p', '.'], appDir);
  expect(bad.status).not.toBe(0);
  expect(bad.stdout).toMatch(/bad\.ts\(2,\d+\): error TS2322: Type '"lockout"' is not assignable/);
  rmSync(join(appDir, 'bad.ts'));
  writeFileSync(
    join(appDir, 'app.js'),
    `const express = require('express');
const { AuthwatchClient } = require('@authwatch/client');
const authwatch = new AuthwatchClient({ url: process.env.AUTHWATCH_URL, ingestKey: process.env.AUTHWATCH_INGEST_KEY, service: 'packed-app' });
const app = express();
app.use(express.json());
app.post('/login', authwatch.guardLogin({ getUser: (req) => req.body && req.body.username }), (req, res) => {
  if (req.body.password === 'right') res.json({ ok: true }); else res.status(401).json({ error: 'invalid credentials' });
});
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`,
  );
  const child = spawn(process.execPath, ['app.js'], { cwd: appDir, env: { PATH: process.env.PATH ?? '', AUTHWATCH_URL: collector.url, AUTHWATCH_INGEST_KEY: KEYS.ingest }, stdio: ['ignore', 'pipe', 'pipe'] });
  stopApp = () => child.kill('SIGKILL');
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`app exited ${code}`)));
  });
  const login = (password: string) =>
    fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'packed-user', password }) });
  for (let i = 0; i < 6; i++) {
    expect((await login(`wrong-${i}`)).status).toBe(401);
    // The outcome is reported after the response; give it a moment to be stored.
    for (let t = 0; t < 50; t++) {
      const n = (await collector.api<{ total: number }>('GET', '/v1/events?user=packed-user&type=login', KEYS.read)).body.total;
      if (n >= i + 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const locked = await login('right');
  expect(locked.status).toBe(429);
  expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
  expect(await locked.json()).toMatchObject({ error: 'too_many_attempts', reason: 'user_locked' });
}, 180_000);
