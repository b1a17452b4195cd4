import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from './http';

const repoRoot = join(__dirname, '..', '..', '..', '..');
const mainJs = join(repoRoot, 'collector', 'dist', 'main.js');

export const KEYS = { ingest: 'ingest-key-test', read: 'read-key-test', admin: 'admin-key-test' };

export interface Collector {
  url: string;
  ingest(events: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the real collector (built collector/dist) on a free loopback port with a fresh SQLite file. */
export async function startCollector(): Promise<Collector> {
  if (!existsSync(mainJs)) {
    const built = spawnSync('npm', ['run', 'build', '-w', '@authwatch/collector'], { cwd: repoRoot, stdio: 'inherit' });
    if (built.status !== 0) {
      throw new Error('the collector is not built and `npm run build -w @authwatch/collector` failed');
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-ds-test-'));
  const child: ChildProcess = spawn(process.execPath, [mainJs, '--no-demo'], {
    cwd: dir,
    env: {
      ...process.env,
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: '0',
      AUTHWATCH_DEMO: '0',
      AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`,
      AUTHWATCH_INGEST_KEYS: KEYS.ingest,
      AUTHWATCH_READ_KEYS: KEYS.read,
      AUTHWATCH_ADMIN_KEYS: KEYS.admin,
      OTEL_SDK_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`collector exited with ${code} before listening:\n${output}`)));
  });
  return {
    url,
    async ingest(events) {
      const res = await http('POST', `${url}/v1/events`, { authorization: `Bearer ${KEYS.ingest}`, 'content-type': 'application/json' }, JSON.stringify(events));
      if (res.status !== 202) {
        throw new Error(`ingest answered ${res.status}: ${res.text}`);
      }
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
