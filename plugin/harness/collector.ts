// Runs the real collector (collector/dist/main.js) on a free port with a fresh SQLite file.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..');

export interface CollectorKeys {
  ingest: string;
  read: string;
  admin: string;
}

export interface RunningCollector {
  url: string;
  keys: CollectorKeys;
  stop(): Promise<void>;
  /** Calls the collector directly (test side, never from the browser). */
  request(method: string, path: string, key: keyof CollectorKeys, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export function buildCollectorIfMissing(): void {
  if (existsSync(join(repoRoot, 'collector', 'dist', 'main.js'))) {
    return;
  }
  const r = spawnSync('npm', ['run', 'build', '-w', '@authwatch/collector'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error('building the collector failed (npm run build -w @authwatch/collector)');
  }
}

export async function startCollector(keys: CollectorKeys): Promise<RunningCollector> {
  buildCollectorIfMissing();
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-harness-store-'));
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'collector', 'dist', 'main.js'), '--no-demo'], {
    cwd: dir,
    env: {
      ...process.env,
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: '0',
      AUTHWATCH_DEMO: '0',
      AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`,
      AUTHWATCH_INGEST_KEYS: keys.ingest,
      AUTHWATCH_READ_KEYS: keys.read,
      AUTHWATCH_ADMIN_KEYS: keys.admin,
      OTEL_SDK_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /authwatch collector listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    keys,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    async request(method, path, key, body) {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${keys[key]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // CSV and other text bodies stay strings.
      }
      return { status: res.status, body: parsed };
    },
  };
}
