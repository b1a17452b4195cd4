// Starting the real collector the way a deployment does: its built entry point, its own process,
// keys in the environment, a SQLite file, loopback and an OS-chosen port, no demo traffic.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer } from './proc.mjs';

export const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** The entry point; AUTHWATCH_BENCH_COLLECTOR overrides it (to bench another build). */
export function collectorMain() {
  return process.env.AUTHWATCH_BENCH_COLLECTOR ?? join(root, 'collector/dist/main.js');
}

/** Builds the collector only when its dist is missing. */
export function ensureBuilt() {
  const main = collectorMain();
  if (existsSync(main)) return;
  console.log('collector/dist missing: npm run build -w @authwatch/collector');
  const r = spawnSync('npm', ['run', 'build', '-w', '@authwatch/collector'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(main)) throw new Error(`collector build failed; ${main} not found`);
}

/** Fresh random keys per run, one per role. */
export function makeKeys() {
  const k = (role) => `aw_${role}_${randomBytes(18).toString('base64url')}`;
  return { ingest: k('ingest'), read: k('read'), admin: k('admin') };
}

export function startCollector({ dbFile, keys, nodeArgs = [], env = {} }) {
  return startServer([...nodeArgs, collectorMain(), '--no-demo'], {
    cwd: root,
    name: 'collector',
    env: {
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: '0',
      AUTHWATCH_STORE: `sqlite:${dbFile}`,
      AUTHWATCH_DEMO: '0',
      AUTHWATCH_INGEST_KEYS: keys.ingest,
      AUTHWATCH_READ_KEYS: keys.read,
      AUTHWATCH_ADMIN_KEYS: keys.admin,
      ...env,
    },
  });
}

export const bearer = (key) => ({ authorization: `Bearer ${key}` });
