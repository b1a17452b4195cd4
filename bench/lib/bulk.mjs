// Bulk-loaded stores for P4 and P3-export. Loading 10M rows (and running the collector's
// migrations over them) takes minutes, so loaded files are kept for 6 hours in
// /tmp/authwatch-bench-cache, keyed by the collector's migrations and the loader's source, and
// copied; --fresh loads again.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { join } from 'node:path';
import { runJsonProcess } from './proc.mjs';
import { collectorSqlite } from './store-schema.mjs';

export async function bulkLoaded(bench, dbFile, count) {
  const { migrations } = collectorSqlite(bench.root);
  const loader = join(bench.root, 'bench/bulk-load.mjs');
  const key = createHash('sha256')
    .update(JSON.stringify(migrations))
    .update(readFileSync(loader))
    .update(String(count))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = join(os.tmpdir(), 'authwatch-bench-cache');
  const cached = join(cacheDir, `${key}-${count}.db`);
  const meta = `${cached}.json`;
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  if (!bench.opts.fresh && existsSync(meta) && Date.now() - statSync(meta).mtimeMs < 6 * 3600_000) {
    copyFileSync(cached, dbFile);
    return { ...JSON.parse(readFileSync(meta, 'utf8')), cached: true };
  }
  const load = await runJsonProcess([loader, JSON.stringify({ dbFile, count, days: 30 })], { cwd: bench.root, name: 'bulk-load' });
  mkdirSync(cacheDir, { recursive: true });
  for (const f of readdirSync(cacheDir)) if (f.endsWith(`-${count}.db`) || f.endsWith(`-${count}.db.json`)) rmSync(join(cacheDir, f), { force: true });
  copyFileSync(dbFile, cached);
  writeFileSync(meta, JSON.stringify(load));
  return load;
}

export function describeLoad(load) {
  const f = (n) => n.toLocaleString('en-US');
  const s = (x) => x.toFixed(1);
  return `${f(load.count)} events (+ ${f(load.sessions)} sessions, ${f(load.lockouts)} lockouts; migrations ${load.migrations?.join(', ') || 'none'}) in ${s(load.total_s)} s (rows ${s(load.insert_s)} s, sessions/lockouts ${s(load.derive_s)} s, indexes ${s(load.index_s)} s, migrations ${s(load.migrate_s ?? 0)} s)${load.cached ? ', copied from the bench cache' : ''}`;
}
