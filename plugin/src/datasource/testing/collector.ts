// The real collector (built collector/dist/main.js) as a child process, for the data source's
// jest tests (startCollector) and the browser harness (harness/collector.ts builds on
// startCollectorProcess). No fetch here: the data source tests run in jsdom.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from './http';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const mainJs = join(repoRoot, 'collector', 'dist', 'main.js');

export const KEYS = { ingest: 'ingest-key-test', read: 'read-key-test', admin: 'admin-key-test' };

export interface CollectorKeys {
  ingest: string;
  read: string;
  admin: string;
}

export interface CollectorProcess {
  url: string;
  stop(): Promise<void>;
}

export interface Collector extends CollectorProcess {
  ingest(events: unknown[]): Promise<void>;
}

function buildCollectorIfMissing(): void {
  if (existsSync(mainJs)) {
    return;
  }
  const r = spawnSync('npm', ['run', 'build', '-w', '@authwatch/collector'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error('the collector is not built and `npm run build -w @authwatch/collector` failed');
  }
}

/**
 * Builds the collector if needed, starts it on a free loopback port with a fresh SQLite file in a
 * temporary directory (`tmpPrefix`) and these keys, and resolves with its URL once it listens.
 */
export async function startCollectorProcess(keys: CollectorKeys, tmpPrefix: string): Promise<CollectorProcess> {
  buildCollectorIfMissing();
  const dir = mkdtempSync(join(tmpdir(), tmpPrefix));
  const child: ChildProcess = spawn(process.execPath, [mainJs, '--no-demo'], {
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
      reject(new Error(`collector exited with ${code} before listening:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // A collector that does not drain in time must not leave the test run hanging.
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The collector with the test KEYS, and a way to ingest events into it. */
export async function startCollector(): Promise<Collector> {
  const collector = await startCollectorProcess(KEYS, 'authwatch-ds-test-');
  return {
    ...collector,
    async ingest(events) {
      const res = await http(
        'POST',
        `${collector.url}/v1/events`,
        { authorization: `Bearer ${KEYS.ingest}`, 'content-type': 'application/json' },
        JSON.stringify(events)
      );
      if (res.status !== 202) {
        throw new Error(`ingest answered ${res.status}: ${res.text}`);
      }
    },
  };
}
