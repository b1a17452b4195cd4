// Starts the real collector (collector/dist/main.js) on 127.0.0.1 with its own SQLite file, the way
// an application would meet it. Build it first: npm run build -w @authwatch/collector.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = join(__dirname, '..', '..', 'collector', 'dist', 'main.js');

export const KEYS = {
  ingest: 'client-test-ingest-key-0001',
  read: 'client-test-read-key-0001',
  admin: 'client-test-admin-key-0001',
};

export interface LiveCollector {
  url: string;
  port: number;
  child: ChildProcess;
  /** The SQLite file of this collector's store. */
  storeFile: string;
  /** Ends the process (SIGTERM by default; SIGKILL for a crash) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a new process on the same port and store (after stop()). */
  restart(): Promise<void>;
  /** GET/POST with a key: JSON in, JSON out. */
  api<T = unknown>(method: 'GET' | 'POST', path: string, key: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

function launch(port: number, store: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; port: number }> {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: build the collector first (npm run build -w @authwatch/collector)`);
  }
  const child = spawn(process.execPath, [MAIN, '--no-demo'], {
    env: {
      ...process.env,
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: String(port),
      AUTHWATCH_STORE: store,
      AUTHWATCH_INGEST_KEYS: `tests:${KEYS.ingest}`,
      AUTHWATCH_READ_KEYS: `tests-read:${KEYS.read}`,
      AUTHWATCH_ADMIN_KEYS: `tests-admin:${KEYS.admin}`,
      OTEL_SDK_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start within 30 s:\n${output}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      const m = /authwatch collector listening on (http:\/\/[^\s/]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], port: Number(new URL(m[1]).port) });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code} before listening:\n${output}`));
    });
  });
}

export async function startCollector(env: NodeJS.ProcessEnv = {}): Promise<LiveCollector> {
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-client-test-'));
  const storeFile = join(dir, 'authwatch.db');
  const store = `sqlite:${storeFile}`;
  let current = await launch(0, store, env);
  const live: LiveCollector = {
    url: current.url,
    port: current.port,
    child: current.child,
    storeFile,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const child = current.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    },
    async restart() {
      current = await launch(live.port, store, env);
      live.child = current.child;
    },
    async api<T>(method: 'GET' | 'POST', path: string, key: string, body?: unknown) {
      const res = await fetch(`${live.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
    async dispose() {
      await live.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return live;
}
