// Runs the store contract against the SQLite store on temp files, plus SQLite specifics.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { blankEvent } from '../src/schema/stored-event';
import { SqliteStore, sqlitePathFromUrl } from '../src/store/sqlite';
import { SqliteWorkerStore } from '../src/store/sqlite-worker';
import type { CoreStore } from '../src/store/store';
import { tempDir } from './helpers/server';
import { storeContract } from './store-contract';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeContract('sqlite', {
  async create() {
    const dir = tempDir();
    dirs.push(dir);
    return new SqliteStore(join(dir, 'nested', 'store.db'));
  },
  async reopen(store: CoreStore) {
    const file = (store as SqliteStore).file;
    await store.close();
    return new SqliteStore(file);
  },
});

// The collector's default: the same store with its writer and readers in worker threads.
storeContract('sqlite in worker threads', {
  async create() {
    const dir = tempDir();
    dirs.push(dir);
    return SqliteWorkerStore.open(join(dir, 'nested', 'store.db'));
  },
  async reopen(store: CoreStore) {
    const file = (store as SqliteWorkerStore).file;
    await store.close();
    return SqliteWorkerStore.open(file);
  },
});

describe('sqlite specifics', () => {
  test('WAL journal, synchronous=FULL, migrations recorded once', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'a.db');
    await new SqliteStore(file).close();
    const again = new SqliteStore(file);
    await again.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'initial' },
      { version: 2, name: 'event_counts_rollup' },
      { version: 3, name: 'event_counts_hour_rollup' },
      { version: 4, name: 'attempt_reservations' },
      { version: 5, name: 'search_terms' },
      { version: 6, name: 'user_last_seen' },
      { version: 7, name: 'small_rollups' },
      { version: 8, name: 'small_rollups_10min' },
    ]);
    db.close();
  });

  test('the query plan uses an index for filtered event queries', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'a.db');
    await new SqliteStore(file).close();
    const db = new Database(file, { readonly: true });
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan("SELECT * FROM events WHERE user = 'a' AND time >= 1 ORDER BY time DESC, seq DESC LIMIT 10")).toMatch(/USING INDEX events_user_time/);
    expect(plan('SELECT * FROM events WHERE time >= 1 ORDER BY time DESC, seq DESC LIMIT 10')).toMatch(/USING INDEX events_time/);
    expect(plan("SELECT * FROM sessions WHERE ended_at IS NULL AND last_seen_at < 5")).toMatch(/sessions_active_seen/);
    expect(plan("SELECT count(*) FROM failures WHERE key = 'u:a' AND time > 1")).toMatch(/failures_key_time/);
    db.close();
  });

  test('migrations 2 and 3 backfill the rollups from existing events', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'a.db');
    const first = new SqliteStore(file);
    const t0 = Date.parse('2026-05-01T00:00:00Z');
    await first.write((tx) => tx.insertEvents(Array.from({ length: 50 }, (_, i) => blankEvent({ id: `m${i}`, time: t0 + i * 30_000, type: 'login', user: 'u', outcome: i % 2 ? 'failure' : 'success' }))));
    await first.close();
    // Make the file look like it was written before migration 2.
    const raw = new Database(file);
    raw.exec(
      'DROP TABLE event_counts; DROP TABLE event_counts_hour; DROP TABLE reservations; DROP TABLE search_terms; DROP TABLE search_terms_fts; ' +
        'DROP TABLE event_terms; DROP TABLE user_last_seen; DROP TABLE event_counts_by_hour; DROP TABLE event_counts_by_10min; DROP TABLE event_counts_by_minute; ' +
        'DROP INDEX sessions_active_started; DROP INDEX lockouts_locked_at; DELETE FROM schema_migrations WHERE version >= 2;',
    );
    raw.close();
    const again = new SqliteStore(file);
    const rows = await again.timeseries({ from: t0, to: t0 + 3_600_000 }, 600_000, 'outcome');
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(50);
    expect(rows.filter((r) => r.key === 'failure').map((r) => r.count)).toEqual([10, 10, 5]);
    const hourly = await again.timeseries({ from: t0, to: t0 + 7_200_000 }, 3_600_000, null);
    expect(hourly).toEqual([{ bucket: t0, key: null, count: 50 }]);
    await again.close();
  });

  test('store URLs', () => {
    expect(sqlitePathFromUrl('sqlite:/tmp/x.db')).toBe('/tmp/x.db');
    expect(sqlitePathFromUrl('sqlite:./data/authwatch.db')).toBe(join(process.cwd(), 'data/authwatch.db'));
  });
});
