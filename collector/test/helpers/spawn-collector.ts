// Runs the built collector (collector/dist/main.js) as a child process, as the CLI tests and the
// replica test need it, and reads the URL from its "authwatch collector listening on URL" line.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const collectorDir = join(__dirname, '..', '..');
export const collectorMain = join(collectorDir, 'dist', 'main.js');

function newestMtime(dir: string): number {
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

/** Starts dist/main.js with `args` and only PATH plus `env` in its environment. */
export function spawnCollector(args: string[], env: Record<string, string>): CollectorProcess {
  const child = spawn(process.execPath, [collectorMain, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
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
