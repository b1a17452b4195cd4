// The client as an application gets it: `npm pack` → installed into a fresh app outside this
// repository → a login route guarded against a live collector locks with 429 + Retry-After.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS, startCollector, type LiveCollector } from './live-collector';

const clientDir = join(__dirname, '..');
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

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('npm pack → npm install in a fresh app → guardLogin locks with 429 and Retry-After', async () => {
  run('npm', ['pack', '--pack-destination', appDir], clientDir);
  const tarball = readdirSync(appDir).find((f) => f.endsWith('.tgz'))!;
  expect(tarball).toMatch(/^authwatch-client-\d+\.\d+\.\d+\.tgz$/);
  const listing = run('tar', ['-tzf', join(appDir, tarball)], appDir).split('\n').filter(Boolean).sort();
  expect(listing).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/README.md', 'package/LICENSE', 'package/package.json']));
  expect(listing.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);

  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'guarded-app', private: true, version: '1.0.0' }));
  // express from the registry (or the npm cache): what a real app has.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`, 'express@5'], appDir);
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
