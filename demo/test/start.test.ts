// `npm start` end to end: on a fresh store, the collector plus demo traffic show sessions, failures,
// a lockout caused by the demo's brute force and the scripted detections (impossible travel
// included, from the shipped country data) through the API; --no-demo / AUTHWATCH_DEMO=0
// switch the demo off (through npm as well); SIGTERM stops everything.
// Needs the build (npm run build --workspaces), as CI does before the tests.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ATTACK_BLOCKS, inBlock } from '../src/ip-ranges';

const root = join(__dirname, '..', '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  collectorUrl: Promise<string>;
  dir: string;
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv): Started {
  for (const built of ['collector/dist/main.js', 'client/dist/index.js', 'demo/dist/main.js']) {
    if (!existsSync(join(root, built))) throw new Error(`${built} is missing: run npm run build --workspaces first`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-start-test-'));
  const cleanEnv = { ...process.env };
  for (const k of ['AUTHWATCH_INGEST_KEYS', 'AUTHWATCH_READ_KEYS', 'AUTHWATCH_ADMIN_KEYS', 'AUTHWATCH_DEMO', 'AUTHWATCH_PORT', 'AUTHWATCH_HOST']) delete cleanEnv[k];
  // detached: its own process group, so the npm → sh → node chain can be ended as one.
  const child = spawn(cmd, args, {
    cwd: root,
    detached: true,
    env: { ...cleanEnv, AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`, OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collectorUrl = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      out += `${line}\n`;
      const m = /authwatch collector listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before the collector listened:\n${out}`)));
  });
  collectorUrl.catch(() => undefined);
  return { child, output: () => out, collectorUrl, dir };
}

async function stopGroup(s: Started, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  process.kill(-s.child.pid!, signal);
  return exited;
}

async function get<T>(url: string): Promise<T> {
  // Generous: on the first public address the collector loads its ASN table (≈1 s, longer on a
  // loaded shared machine) and answers nothing meanwhile.
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The collector child of a start.mjs process, by parent pid. */
function collectorArgs(startPid: number): string[] {
  const r = spawnSync('pgrep', ['-P', String(startPid), '-f', 'collector/dist/main.js'], { encoding: 'utf8' });
  const pid = r.stdout.trim().split('\n')[0];
  return pid ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) : [];
}

test('npm start on a fresh store: sessions, failures and the brute-force lockout appear through the API', async () => {
  // A fresh clone has no city database: impossible travel must come from the country data alone.
  const s = start(process.execPath, ['scripts/start.mjs'], { AUTHWATCH_GEO_CITY_DB: 'off' });
  try {
    const t0 = Date.now();
    const url = await s.collectorUrl;
    const seen: Record<string, number> = {};
    const deadline = t0 + 150_000;
    while (Date.now() < deadline && Object.keys(seen).length < 3) {
      const [sessions, failures, lockouts] = await Promise.all([
        get<{ sessions: unknown[] }>(`${url}/v1/sessions?state=active`),
        get<{ total: number }>(`${url}/v1/events?type=login&outcome=failure&limit=1`),
        get<{ lockouts: Array<{ user: string | null; ip: string | null; scope: string }> }>(`${url}/v1/lockouts?state=locked`),
      ]);
      const now = (Date.now() - t0) / 1000;
      if (sessions.sessions.length > 0) seen.sessions ??= now;
      if (failures.total > 0) seen.failures ??= now;
      if (lockouts.lockouts.some((l) => l.ip !== null && inBlock(l.ip, ATTACK_BLOCKS[0].cidr))) seen.lockout ??= now;
      if (Object.keys(seen).length < 3) await sleep(500);
    }
    console.log(
      `npm start (fresh store): first active session after ${seen.sessions ?? '—'} s, first failed login after ${seen.failures ?? '—'} s, ` +
        `brute-force lockout after ${seen.lockout ?? '—'} s (from start.mjs launch)`,
    );
    expect(Object.keys(seen).sort()).toEqual(['failures', 'lockout', 'sessions']);
    expect(s.output()).toMatch(/authwatch demo app listening on http:\/\/127\.0\.0\.1:\d+/);

    // The scripted attacks of the first minute are what the collector's detections look for;
    // impossible_travel with the shipped country data only (no city database is installed).
    const wanted = ['brute_force', 'impossible_travel', 'new_country', 'new_device', 'password_spray'];
    const detected = new Map<string, number>();
    while (Date.now() < deadline && !wanted.every((k) => detected.has(k))) {
      const d = await get<{ events: Array<{ reason: string | null }> }>(`${url}/v1/events?type=detection&limit=100`);
      for (const e of d.events) if (e.reason && !detected.has(e.reason)) detected.set(e.reason, (Date.now() - t0) / 1000);
      if (!wanted.every((k) => detected.has(k))) await sleep(1000);
    }
    console.log(`detections: ${[...detected].map(([k, t]) => `${k} after ${t} s`).join(', ') || 'none'}`);
    expect([...detected.keys()]).toEqual(expect.arrayContaining(wanted));
    const travel = await get<{ events: Array<{ user: string; country: string; attributes: Record<string, unknown> }> }>(`${url}/v1/events?type=detection&reason=impossible_travel&limit=1`);
    expect(travel.events[0]).toMatchObject({ user: 'alice', country: 'AU', attributes: { previous_country: 'DE', precision: 'country' } });
    expect(s.output()).toMatch(/Query it:/);

    // SIGTERM to start.mjs alone: it passes it on and exits once its children did.
    const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
    process.kill(s.child.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(s.output()).toMatch(/\[demo\] delivered \d+ events, 0 dropped/);
  } finally {
    await stopGroup(s, 'SIGKILL');
    rmSync(s.dir, { recursive: true, force: true });
  }
});

async function expectNoDemo(s: Started): Promise<void> {
  const url = await s.collectorUrl;
  await sleep(3_000);
  const events = await get<{ total: number }>(`${url}/v1/events?limit=1`);
  expect(events.total).toBe(0);
  expect(s.output()).not.toMatch(/demo app listening/);
  expect(s.output()).toMatch(/Demo\s+off/);
}

test('AUTHWATCH_DEMO=0 runs the collector alone, and the collector is told --no-demo', async () => {
  const s = start(process.execPath, ['scripts/start.mjs'], { AUTHWATCH_DEMO: '0' });
  try {
    await expectNoDemo(s);
    expect(collectorArgs(s.child.pid!)).toContain('--no-demo');
    expect(await stopGroup(s)).toBe(0);
  } finally {
    await stopGroup(s, 'SIGKILL');
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('`npm start -- --no-demo`: the flag goes through npm (build included) to start.mjs and the collector', async () => {
  const s = start('npm', ['start', '--silent', '--', '--no-demo'], {});
  try {
    await expectNoDemo(s);
    // The node process running start.mjs (not the `sh -c` npm put in between).
    const candidates = spawnSync('pgrep', ['-g', String(s.child.pid), '-f', 'scripts/start.mjs'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const startProc = candidates
      .map((pid) => ({ pid: Number(pid), argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) }))
      .find((p) => p.argv[1]?.endsWith('scripts/start.mjs'));
    expect(startProc?.argv).toContain('--no-demo');
    expect(collectorArgs(startProc!.pid)).toContain('--no-demo');
  } finally {
    await stopGroup(s);
    await stopGroup(s, 'SIGKILL');
    rmSync(s.dir, { recursive: true, force: true });
  }
});
