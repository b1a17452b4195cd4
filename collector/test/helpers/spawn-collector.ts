// Runs the built collector (collector/dist/main.js) as a child process, as the CLI tests and the
// multi-process tests (replicas, scale-out, decision integrity) need it, reads the URL from its
// "authwatch collector listening on URL" line, and calls it with one API key per role.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const collectorDir = join(__dirname, '..', '..');
export const collectorMain = join(collectorDir, 'dist', 'main.js');

/** The newest modification time under `dir` (is a build older than its sources?). */
export function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds when dist is missing or older than the sources (CI builds first anyway). */
export function buildCollectorIfStale(): void {
  if (!existsSync(collectorMain) || statSync(collectorMain).mtimeMs < newestMtime(join(collectorDir, 'src'))) {
    const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(collectorDir, 'tsconfig.build.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`collector build failed:\n${r.stdout}${r.stderr}`);
  }
}

export interface CollectorProcess {
  child: ChildProcess;
  /** What it printed on stdout / stderr so far. */
  out: () => string;
  err: () => string;
  /** Its exit code (null when killed by a signal). */
  exit: Promise<number | null>;
}

/** Collects a child's stdout and stderr and its exit code. */
export function watchChild(child: ChildProcess): CollectorProcess {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

/** Starts dist/main.js with `args` and only PATH plus `env` in its environment. */
export function spawnCollector(args: string[], env: Record<string, string>): CollectorProcess {
  return watchChild(spawn(process.execPath, [collectorMain, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * The URL from the listening line once printed. Rejects when the process exits first, or after
 * `timeoutMs` when given.
 */
export function listeningUrl(p: CollectorProcess, what: string, timeoutMs?: number): Promise<string> {
  const end = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  return new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /authwatch collector listening on (http:\/\/\S+)/.exec(p.out());
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      } else if (p.child.exitCode !== null || p.child.signalCode !== null) {
        clearInterval(timer);
        reject(new Error(`${what} exited with ${p.child.exitCode ?? p.child.signalCode} before listening:\n${p.out()}${p.err()}`));
      } else if (Date.now() > end) {
        clearInterval(timer);
        reject(new Error(`${what} printed no listening line within ${timeoutMs} ms:\n${p.out()}`));
      }
    }, 25);
  });
}

/** One API key per role, as AUTHWATCH_{INGEST,READ,ADMIN}_KEYS give them. */
export interface RoleKeys {
  ingest: string;
  read: string;
  admin: string;
}
export type Role = keyof RoleKeys;

/** The environment of a collector on 127.0.0.1 with `keys` (app, grafana, ops) on `store`. */
export function keyedEnv(store: string, keys: RoleKeys, env: Record<string, string> = {}): Record<string, string> {
  return {
    AUTHWATCH_HOST: '127.0.0.1',
    AUTHWATCH_PORT: '0',
    AUTHWATCH_STORE: store,
    AUTHWATCH_INGEST_KEYS: `app:${keys.ingest}`,
    AUTHWATCH_READ_KEYS: `grafana:${keys.read}`,
    AUTHWATCH_ADMIN_KEYS: `ops:${keys.admin}`,
    ...env,
  };
}

export interface Answer {
  status: number;
  /** Parsed JSON, the text when it is not JSON, undefined when empty. */
  body: any;
  /** X-Served-By (set by the load balancer in front of replicas). */
  servedBy: string | null;
}

/** One API call with the role's key. */
export async function callCollector(base: string, keys: RoleKeys, method: string, path: string, role: Role, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${keys[role]}` };
  // State-changing calls are JSON, also without a body (the API refuses form posts).
  if (body !== undefined || method !== 'GET') headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, servedBy: res.headers.get('x-served-by') };
}

export interface KeyedCollector extends CollectorProcess {
  url: string;
  req(method: string, path: string, role: Role, body?: unknown): Promise<Answer>;
}

/** Starts a collector process with `keys` on `store` and waits for its URL. */
export async function startKeyedCollector(
  store: string,
  keys: RoleKeys,
  opts: { env?: Record<string, string>; what?: string; timeoutMs?: number } = {},
): Promise<KeyedCollector> {
  const p = spawnCollector(['--no-demo'], keyedEnv(store, keys, opts.env));
  const url = await listeningUrl(p, opts.what ?? 'collector', opts.timeoutMs ?? 60_000);
  return { ...p, url, req: (method, path, role, body) => callCollector(url, keys, method, path, role, body) };
}

/** SIGTERM, then waits for the exit (nothing when it already exited). */
export async function stopCollector(p: CollectorProcess | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exit;
}
