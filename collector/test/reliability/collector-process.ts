// Runs the built collector (collector/dist/main.js) as its own process, as a deployment does: keys
// in the environment, a SQLite file, 127.0.0.1 and an OS-chosen port, no demo traffic.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const collectorDir = join(__dirname, '..', '..');
// AUTHWATCH_RELIABILITY_MAIN runs the suite against another build of the collector.
export const mainJs = process.env.AUTHWATCH_RELIABILITY_MAIN ?? join(collectorDir, 'dist', 'main.js');

export interface Keys {
  ingest: string;
  read: string;
  admin: string;
}

export function makeKeys(): Keys {
  const k = (role: string) => `aw_${role}_${randomBytes(18).toString('base64url')}`;
  return { ingest: k('ingest'), read: k('read'), admin: k('admin') };
}

/** Builds the collector once if dist/main.js is missing (CI builds it before the tests). */
export function ensureBuilt(): void {
  if (existsSync(mainJs)) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: collectorDir, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(mainJs)) {
    throw new Error(`collector build failed (npm run build in collector/):\n${r.stdout}\n${r.stderr}`);
  }
}

export interface Collector {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  alive(): boolean;
  /** SIGTERM, SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, resolves once the process is gone. */
  kill9(): Promise<void>;
}

export function startCollector(opts: { dbFile: string; keys: Keys; env?: Record<string, string> }): Promise<Collector> {
  ensureBuilt();
  const child = spawn(process.execPath, [mainJs, '--no-demo'], {
    cwd: collectorDir,
    env: {
      ...process.env,
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: '0',
      AUTHWATCH_STORE: `sqlite:${opts.dbFile}`,
      AUTHWATCH_DEMO: '0',
      AUTHWATCH_INGEST_KEYS: opts.keys.ingest,
      AUTHWATCH_READ_KEYS: opts.keys.read,
      AUTHWATCH_ADMIN_KEYS: opts.keys.admin,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (c: Buffer) => {
    out += c.toString();
    if (out.length > 400_000) out = out.slice(-200_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`collector did not print its listening URL within 60 s:\n${out}`));
    }, 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      resolve({
        url: m[1].replace(/\/$/, ''),
        pid: child.pid!,
        child,
        output: () => out,
        alive,
        async stop(graceMs = 10_000) {
          if (!alive()) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        },
        async kill9() {
          if (alive()) child.kill('SIGKILL');
          await exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`collector exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
