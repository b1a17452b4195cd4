// The CLI tests run the built binary (cli/dist/main.js) as a user would, against collector
// processes started the way collector/test/helpers/spawn-collector.ts starts them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCollectorIfStale,
  keyedEnv,
  listeningUrl,
  newestMtime,
  spawnCollector,
  watchChild,
  type CollectorProcess,
} from '../../collector/test/helpers/spawn-collector';

const cliDir = join(__dirname, '..');
export const CLI = join(cliDir, 'dist', 'main.js');
export const KEYS = { ingest: 'cli-test-ingest-1', read: 'cli-test-read-1', admin: 'cli-test-admin-1' } as const;

/** Builds the collector and then the CLI when their dist is missing or older than the sources. */
export function buildIfStale(): void {
  buildCollectorIfStale();
  const collectorMain = join(cliDir, '..', 'collector', 'dist', 'main.js');
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < Math.max(newestMtime(join(cliDir, 'src')), statSync(collectorMain).mtimeMs)) {
    const r = spawnSync('npm', ['run', '--silent', 'build', '-w', '@authwatch/cli'], { cwd: join(cliDir, '..'), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cli build failed:\n${r.stdout}${r.stderr}`);
  }
}

export interface Collector {
  url: string;
  dir: string;
  proc: CollectorProcess;
  stop(): Promise<void>;
}

/** A collector process with the three test keys on a fresh SQLite file in a temp dir. */
export async function startCollector(env: Record<string, string> = {}): Promise<Collector> {
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-cli-test-'));
  const proc = spawnCollector(['--port', '0', '--no-demo'], keyedEnv(`sqlite:${join(dir, 'authwatch.db')}`, KEYS, { OTEL_SDK_DISABLED: 'true', ...env }));
  const url = await listeningUrl(proc, 'the collector', 30_000);
  return {
    url,
    dir,
    proc,
    async stop() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM');
        await proc.exit;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment a CLI run gets: PATH, the given variables, nothing of the test runner's. */
export function cliEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = { PATH: process.env.PATH ?? '', TZ: 'UTC' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Runs `authwatch ARGS` to the end. */
export function cli(args: string[], env: Record<string, string | undefined>, input?: string | Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Starts `authwatch ARGS` and leaves it running (tail, serve). */
export function cliProcess(args: string[], env: Record<string, string | undefined>): CollectorProcess {
  return watchChild(spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Resolves once `test` passes on the output, or rejects after `ms`. */
export async function waitFor(what: string, test: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port nothing listens on. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** POSTs events with the ingest key (test setup, not what is under test). */
export async function ingest(url: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.ingest}` }, body: JSON.stringify(events) });
  if (res.status !== 202) throw new Error(`ingest: HTTP ${res.status} ${await res.text()}`);
}

export async function getJson<T>(url: string, path: string, key: string = KEYS.admin): Promise<T> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
