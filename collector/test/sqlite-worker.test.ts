// The worker-thread SQLite store: storage work happens off this thread, so the event loop keeps
// turning during exports, queries and long transactions; forwarding keeps the transaction
// semantics (an error in an unanswered operation still fails its transaction or savepoint).
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { blankEvent } from '../src/schema/stored-event';
import { SqliteStore, sqliteSyncFromEnv } from '../src/store/sqlite';
import { SqliteWorkerStore } from '../src/store/sqlite-worker';
import { BACKGROUND_NICE } from '../src/store/sqlite-worker-entry';
import { BadQuery } from '../src/store/store';
import { ticker } from './helpers/loop-turns';
import { tempDir } from './helpers/server';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function file(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir, 'w.db');
}


const events = (n: number, prefix = 'e', user = (i: number) => `u${i % 50}`) =>
  Array.from({ length: n }, (_, i) => blankEvent({ id: `${prefix}${i}`, time: T0 + i * 1000, type: 'login', user: user(i), outcome: i % 3 ? 'success' : 'failure', ip: `192.0.2.${i % 200}` }));
const users = (q: string) => store.queryEvents({ user: [q] }, { limit: 1, cursor: null, order: 'asc' }).then((p) => p.total);
let store: SqliteWorkerStore;

describe('sqlite worker store', () => {
  beforeAll(async () => {
    store = await SqliteWorkerStore.open(file(), { yieldMs: 1 });
    await store.write((tx) => tx.insertEvents(events(5000)));
  });
  afterAll(() => store.close());

  test('an export is read in another thread: the event loop turns while it runs', async () => {
    const t = ticker();
    let n = 0;
    for await (const _ of store.streamEvents({}, 'asc')) n++;
    expect(n).toBe(5000);
    expect(t.stop()).toBeGreaterThan(0);
  });

  test('queries are answered by another thread: the event loop turns before the answer', async () => {
    const t = ticker();
    const page = await store.queryEvents({ q: 'u4' }, { limit: 10, cursor: null, order: 'desc' });
    const series = await store.timeseries({ from: T0, to: T0 + 5000_000 }, 60_000, 'outcome');
    expect(t.stop()).toBeGreaterThan(0);
    expect(page.total).toBe(1100);
    expect(series.reduce((s, r) => s + r.count, 0)).toBe(5000);
  });

  test('a long transaction gives the event loop turns (yieldMs) and still commits as one', async () => {
    const t = ticker();
    let turnsInside = 0;
    await store.write(async (tx) => {
      for (let i = 0; i < 3000; i++) await tx.putState('long', `k${i}`, i, null);
      for (let i = 0; i < 3000; i++) expect(await tx.getState('long', `k${i}`)).toBe(i);
      turnsInside = t.stop();
    });
    expect(turnsInside).toBeGreaterThan(0);
    expect(await store.write((tx) => tx.getState('long', 'k2999'))).toBe(2999);
  });

  test('while an export is paused, writes commit and point reads answer', async () => {
    const it = store.streamEvents({}, 'desc')[Symbol.asyncIterator]();
    expect((await it.next()).value.id).toBe('e4999');
    expect(await store.write((tx) => tx.insertEvents(events(1, 'paused')))).toEqual([true]);
    expect(await store.countActiveSessions()).toBe(0);
    expect((await it.next()).value.id).toBe('e4998');
    await it.return?.(undefined);
  });

  test('an operation posted without waiting that fails still fails its transaction, or only its savepoint', async () => {
    const r = { id: 'dup', user: 'u', ip: null, display_user: 'u', display_ip: null, created_at: T0, expires_at: T0 + 1 };
    await expect(
      store.write(async (tx) => {
        await tx.insertEvents(events(1, 'lost', () => 'lost-user'));
        await tx.insertReservation(r);
        await tx.insertReservation(r); // primary key conflict, reported at the commit
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await users('lost-user')).toBe(0);
    await store.write(async (tx) => {
      await tx.insertEvents(events(1, 'kept', () => 'kept-user'));
      await expect(
        tx.savepoint(async () => {
          await tx.insertEvents(events(1, 'dropped', () => 'dropped-user'));
          await tx.insertReservation(r);
          await tx.insertReservation(r);
        }),
      ).rejects.toThrow(/UNIQUE/);
      expect(await tx.takeReservation('dup')).toBeUndefined();
    });
    expect(await users('kept-user')).toBe(1);
    expect(await users('dropped-user')).toBe(0);
  });

  test('an outer failure reported inside a savepoint that swallows its error still fails the transaction', async () => {
    const r = { id: 'dup2', user: 'u', ip: null, display_user: 'u', display_ip: null, created_at: T0, expires_at: T0 + 1 };
    await expect(
      store.write(async (tx) => {
        await tx.insertReservation(r);
        await tx.insertReservation(r); // fails, unanswered, outside any savepoint
        await tx.savepoint(() => tx.getState('x', 'y')).catch(() => undefined); // a processor that swallows its own failure
        await tx.insertEvents(events(1, 'after', () => 'after-user'));
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect(await users('after-user')).toBe(0);
    expect(await store.write((tx) => tx.takeReservation('dup2'))).toBeUndefined();
  });

  test('a bad cursor is still a BadQuery (the API answers 400)', async () => {
    await expect(store.queryEvents({}, { limit: 1, cursor: 'not-a-cursor', order: 'asc' })).rejects.toBeInstanceOf(BadQuery);
  });
});

test('an in-process export also leaves the event loop turning (it yields every few milliseconds)', async () => {
  const s = new SqliteStore(file());
  await s.write((tx) => tx.insertEvents(events(20_000, 'inproc')));
  const t = ticker();
  let n = 0;
  for await (const _ of s.streamEvents({}, 'asc')) n++;
  expect(n).toBe(20_000);
  expect(t.stop()).toBeGreaterThan(0);
  await s.close();
});

test('closed: every call is refused, nothing hangs', async () => {
  const s = await SqliteWorkerStore.open(file());
  await s.close();
  await expect(s.write(async () => 1)).rejects.toThrow('store is closed');
  await expect(s.getPolicy()).rejects.toThrow('store is closed');
  await expect(s.queryEvents({}, { limit: 1, cursor: null, order: 'asc' })).rejects.toThrow('store is closed');
});

test('a file that cannot be opened fails open() with the reason', async () => {
  const f = file();
  await new SqliteStore(f).close();
  // A path below a regular file: its directory cannot be created.
  await expect(SqliteWorkerStore.open(join(f, 'below-a-file.db'))).rejects.toThrow(/ENOTDIR|EEXIST/);
});

test('AUTHWATCH_SQLITE_SYNC: full by default, normal on request, anything else refused', async () => {
  expect(sqliteSyncFromEnv({})).toBe('full');
  expect(sqliteSyncFromEnv({ AUTHWATCH_SQLITE_SYNC: ' Normal ' })).toBe('normal');
  expect(() => sqliteSyncFromEnv({ AUTHWATCH_SQLITE_SYNC: 'off' })).toThrow(/full \(default\) or normal/);
  const f = file();
  const s = new SqliteStore(f, { synchronous: 'normal' });
  // The write connection is the one that commits: its setting is what counts (2 = FULL, 1 = NORMAL).
  expect((s as unknown as { writer: { db: Database.Database } }).writer.db.pragma('synchronous', { simple: true })).toBe(1);
  await s.close();
  const d = new SqliteStore(f);
  expect((d as unknown as { writer: { db: Database.Database } }).writer.db.pragma('synchronous', { simple: true })).toBe(2);
  await d.close();
});

test('on Linux the export/query reader runs at a lower priority; the writer and the point-read thread do not', async () => {
  const tasks = () => {
    const out = new Map<number, number>();
    for (const t of readdirSync('/proc/self/task')) {
      try {
        // Fields after "(comm)": state is the 1st, nice the 17th (field 19 of stat).
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        out.set(Number(t), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
      } catch {
        // the thread ended meanwhile
      }
    }
    return out;
  };
  if (!existsSync('/proc/self/task')) {
    console.log('skipped: no /proc (not Linux): thread priorities are left alone there');
    return;
  }
  const before = tasks();
  const s = await SqliteWorkerStore.open(file(), { readers: 2 });
  try {
    const added = [...tasks()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
    // writer, point reader, export reader (libuv may add pool threads at nice 0 too)
    expect(added.filter((n) => n === BACKGROUND_NICE)).toHaveLength(1);
    expect(added.filter((n) => n === 0).length).toBeGreaterThanOrEqual(2);
  } finally {
    await s.close();
  }
});
