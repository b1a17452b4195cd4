// Helpers for tests that run real processes (collector, Prometheus, promtool): binary checks that
// fail loudly in CI, free ports, readiness polling and clean shutdown by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO = join(__dirname, '..', '..');
export const RULES_FILE = join(REPO, 'provisioning', 'prometheus', 'rules', 'authwatch.rules.yml');
export const RULES_TEST_FILE = join(REPO, 'provisioning', 'prometheus', 'rules', 'authwatch.rules.test.yml');
export const PROMETHEUS_CONFIG = join(REPO, 'provisioning', 'prometheus', 'prometheus.yml');

/**
 * Path of a required external binary, or null (with the reason printed) when it is missing
 * outside CI. In CI (CI=true) a missing binary is an error, never a silent skip.
 */
export function requireBinary(path: string, install: string): string | null {
  if (existsSync(path)) return path;
  const message = `${path} not found (install it: ${install})`;
  if (process.env.CI === 'true') throw new Error(`${message}; it is required when CI=true`);
  console.warn(`SKIPPED: ${message}`);
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until fn returns a value (not undefined) or the deadline passes; then throws with `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO): Proc {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function newestMtime(dir: string, skip: RegExp): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(p, skip));
    else if (!skip.test(name)) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/** Builds the collector (npm run build -w @authwatch/collector) unless dist is newer than src. */
export function buildCollector(): string {
  const main = join(REPO, 'collector', 'dist', 'main.js');
  const srcNewest = newestMtime(join(REPO, 'collector', 'src'), /\.test\.ts$/);
  if (existsSync(main) && statSync(main).mtimeMs >= srcNewest) {
    console.log('collector/dist is up to date; not rebuilding');
    return main;
  }
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', 'build', '-w', '@authwatch/collector'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`collector build failed:\n${r.stdout}\n${r.stderr}`);
  console.log(`built the collector in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return main;
}
