// Retention against the real SQLite store: only events older than the limit go, at start and on
// the schedule; unset keeps everything; bad values are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../log';
import { blankEvent } from '../schema/stored-event';
import { parseRetentionConfig, startRetention } from './retention';
import { openSqliteStore, type SqliteStore } from './sqlite';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 30, 12, 0, 0);

let dir: string;
let store: SqliteStore;
const quiet = createLogger(new Writable({ write: (_c, _e, cb) => cb() }));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authwatch-retention-'));
  store = openSqliteStore(`sqlite:${join(dir, 'authwatch.db')}`);
  const ages = [40, 31, 30.01, 29.99, 10, 0];
  await store.write((tx) =>
    tx.insertEvents(ages.map((d) => blankEvent({ id: `age-${d}`, time: NOW - d * DAY, type: 'login', outcome: 'success', user: 'alice' }))),
  );
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function remaining(): Promise<string[]> {
  const page = await store.queryEvents({}, { limit: 100, cursor: null, order: 'asc' });
  return page.events.map((e) => e.id);
}

function purged(env: NodeJS.ProcessEnv, clock = () => NOW): Promise<{ deleted: number; before: number; stop: () => void }> {
  return new Promise((resolve) => {
    const stop = startRetention(store, parseRetentionConfig(env), { log: quiet, clock, onPurge: (deleted, before) => resolve({ deleted, before, stop }) });
  });
}

test('with 30 days, the purge at start removes only events older than 30 days', async () => {
  const { deleted, before, stop } = await purged({ AUTHWATCH_RETENTION_DAYS: '30' });
  stop();
  expect(before).toBe(NOW - 30 * DAY);
  expect(deleted).toBe(3);
  expect(await remaining()).toEqual(['age-29.99', 'age-10', 'age-0']);
});

test('the schedule keeps purging as time passes', async () => {
  let now = NOW;
  const runs: number[] = [];
  await new Promise<void>((resolve) => {
    const stop = startRetention(store, parseRetentionConfig({ AUTHWATCH_RETENTION_DAYS: '30', AUTHWATCH_RETENTION_INTERVAL_SECONDS: '0.05' }), {
      log: quiet,
      clock: () => now,
      onPurge: (deleted) => {
        runs.push(deleted);
        now += 15 * DAY; // the next run happens "15 days later"
        if (runs.length === 3) {
          stop();
          resolve();
        }
      },
    });
  });
  expect(runs).toEqual([3, 1, 1]); // 29.99 d becomes 44.99 d; 10 d becomes 40 d
  expect(await remaining()).toEqual(['age-0']);
});

test('unset keeps everything; nonsense is refused', async () => {
  const stop = startRetention(store, parseRetentionConfig({}), { log: quiet });
  stop();
  await new Promise((r) => setTimeout(r, 20));
  expect(await remaining()).toHaveLength(6);
  expect(() => parseRetentionConfig({ AUTHWATCH_RETENTION_DAYS: '-1' })).toThrow(/AUTHWATCH_RETENTION_DAYS=-1/);
  expect(() => parseRetentionConfig({ AUTHWATCH_RETENTION_DAYS: 'forever' })).toThrow(/days > 0/);
});
