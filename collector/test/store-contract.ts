// The store contract, as a suite any implementation runs: pass a factory that opens a fresh,
// empty store (and can reopen the same one). SQLite runs it in sqlite-store.test.ts; the
// PostgreSQL store runs the same function.
import { HIDDEN_FIELDS } from '../src/schema/redact';
import { EVENT_TYPES, MAX_FILTER_VALUES, MAX_QUERY_TIME } from '../src/api/params';
import { DEFAULT_POLICY } from '../src/schema/policy';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { encodeCursor, type SearchFilter } from '../src/store/filter-sql';
import { GROUP_FIELDS, VALUE_FIELDS, type CoreStore, type EventFilter, type SessionRow } from '../src/store/store';
import { seeded } from './helpers/seeded';

export interface StoreFactory {
  /** A new, empty store. */
  create(): Promise<CoreStore>;
  /** The same data as `store`, through a new instance (after store.close()). */
  reopen(store: CoreStore): Promise<CoreStore>;
}

const T0 = Date.parse('2026-04-01T00:00:00Z');

function event(i: number, fields: Partial<StoredEvent> = {}): StoredEvent {
  return blankEvent({ id: `e${i}`, time: T0 + i * 1000, type: 'login', user: `u${i % 3}`, outcome: i % 2 ? 'failure' : 'success', ...fields });
}

function session(id: string, fields: Partial<SessionRow> = {}): SessionRow {
  return {
    id, user: 'alice', user_id: null, ip: '192.0.2.1', country: 'NL', city: 'Amsterdam', isp: null, asn: null, browser: 'Firefox', os: 'Linux',
    device: null, device_type: 'desktop', service: 'portal', started_at: T0, last_seen_at: T0, ended_at: null, end_reason: null, ...fields,
  };
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    let store: CoreStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
    });

    test('events are idempotent by id and survive a reopen', async () => {
      const first = await store.write((tx) => tx.insertEvents([event(1), event(2), event(1)]));
      expect(first).toEqual([true, true, false]);
      expect(await store.write((tx) => tx.insertEvents([event(2), event(3)]))).toEqual([false, true]);
      store = await factory.reopen(store);
      const page = await store.queryEvents({}, { limit: 10, cursor: null, order: 'asc' });
      expect(page.events.map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
      expect(page.events[0]).toEqual(event(1));
    });

    test('a write that throws leaves nothing behind', async () => {
      await expect(
        store.write(async (tx) => {
          await tx.insertEvents([event(1)]);
          await tx.putState('ns', 'k', { a: 1 }, null);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await store.queryEvents({}, { limit: 10, cursor: null, order: 'asc' })).total).toBe(0);
      expect(await store.write((tx) => tx.getState('ns', 'k'))).toBeUndefined();
    });

    test('a savepoint rolls back only its own work', async () => {
      await store.write(async (tx) => {
        await tx.insertEvents([event(1)]);
        await expect(
          tx.savepoint(async () => {
            await tx.insertEvents([event(2)]);
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
        await tx.savepoint(async () => {
          await tx.insertEvents([event(3)]);
        });
      });
      const page = await store.queryEvents({}, { limit: 10, cursor: null, order: 'asc' });
      expect(page.events.map((e) => e.id)).toEqual(['e1', 'e3']);
    });

    test('writers are serialised: read-modify-write with awaits in between never loses an update', async () => {
      await Promise.all(
        Array.from({ length: 25 }, () =>
          store.write(async (tx) => {
            const n = (await tx.getState<number>('counter', 'n')) ?? 0;
            await new Promise((r) => setImmediate(r));
            await tx.putState('counter', 'n', n + 1, null);
          }),
        ),
      );
      expect(await store.write((tx) => tx.getState<number>('counter', 'n'))).toBe(25);
    });

    test('state expires', async () => {
      await store.write(async (tx) => {
        await tx.putState('ns', 'old', 1, Date.now() - 1);
        await tx.putState('ns', 'new', 2, Date.now() + 60_000);
      });
      expect(await store.write((tx) => tx.getState('ns', 'old'))).toBeUndefined();
      expect(await store.write((tx) => tx.getState('ns', 'new'))).toBe(2);
      await store.write((tx) => tx.pruneState(Date.now()));
      expect(await store.write((tx) => tx.getState('ns', 'new'))).toBe(2);
    });

    test('meta: first writer wins; policy defaults and updates', async () => {
      expect(await store.getOrCreateMeta('k', () => 'one')).toBe('one');
      expect(await store.getOrCreateMeta('k', () => 'two')).toBe('one');
      expect(await store.getPolicy()).toEqual(DEFAULT_POLICY);
      await store.write((tx) => tx.putPolicy({ ...DEFAULT_POLICY, scope: 'user_ip', permanent_after: 3 }));
      expect(await store.getPolicy()).toMatchObject({ scope: 'user_ip', permanent_after: 3, lock_seconds: 900 });
    });

    test('sessions: open once, touch, end once, idle and per-user queries, counts', async () => {
      await store.write(async (tx) => {
        expect(await tx.openSession(session('s1'))).toBe(true);
        expect(await tx.openSession(session('s1'))).toBe(false);
        await tx.openSession(session('s2', { user: 'bob', ip: null, service: null, last_seen_at: T0 + 10 }));
        await tx.touchSession('s2', T0 + 500, '192.0.2.9', 'api');
        await tx.touchSession('s2', T0 + 100, '192.0.2.10', 'other');
      });
      expect(await store.getSession('s2')).toMatchObject({ last_seen_at: T0 + 500, ip: '192.0.2.9', service: 'api' });
      expect(await store.countActiveSessions()).toBe(2);
      expect(await store.countActiveSessions(['bob'])).toBe(1);
      await store.write(async (tx) => {
        expect((await tx.idleSessions(T0 + 100, 10)).map((s) => s.id)).toEqual(['s1']);
        expect((await tx.activeSessionsOfUser('alice')).map((s) => s.id)).toEqual(['s1']);
        expect(await tx.endSession('s1', T0 + 1000, 'logout')).toBe(true);
        expect(await tx.endSession('s1', T0 + 2000, 'idle_timeout')).toBe(false);
      });
      expect(await store.getSession('s1')).toMatchObject({ ended_at: T0 + 1000, end_reason: 'logout' });
      expect((await store.listSessions({ state: 'active', limit: 10 })).map((s) => s.id)).toEqual(['s2']);
      expect((await store.listSessions({ state: 'ended', limit: 10 })).map((s) => s.id)).toEqual(['s1']);
      expect(await store.listSessions({ state: 'all', user: ['alice'], limit: 10 })).toHaveLength(1);
      expect(await store.listSessions({ state: 'all', from: T0 + 1500, limit: 10 })).toHaveLength(1);
      expect(await store.countActiveSessions()).toBe(1);
    });

    test('failures: sliding-window counts per key, clear, prune', async () => {
      const counts = await store.write(async (tx) => {
        const out: number[][] = [];
        for (let i = 0; i < 4; i++) out.push(await tx.addFailure(['u:a', 'i:x'], T0 + i * 1000, T0 + i * 1000 - 2500));
        return out;
      });
      expect(counts).toEqual([[1, 1], [2, 2], [3, 3], [3, 3]]);
      const after = await store.write(async (tx) => {
        await tx.clearFailures(['u:a']);
        await tx.pruneFailures(T0 + 2000);
        return tx.addFailure(['u:a', 'i:x'], T0 + 4000, 0);
      });
      expect(after).toEqual([1, 3]);
    });

    test('locks: scope matching, expiry, history count, unlock, locked-account count', async () => {
      const now = T0 + 10_000;
      await store.write(async (tx) => {
        await tx.insertLock({ scope: 'user', user: 'alice', ip: '192.0.2.1', failures: 6, locked_at: T0, locked_until: now + 60_000, reason: 'too_many_failures' });
        await tx.insertLock({ scope: 'user_ip', user: 'bob', ip: '192.0.2.2', failures: 6, locked_at: T0, locked_until: null, reason: 'too_many_failures' });
        await tx.insertLock({ scope: 'ip', user: null, ip: '192.0.2.3', failures: 21, locked_at: T0, locked_until: now + 1, reason: 'too_many_failures' });
        await tx.insertLock({ scope: 'user', user: 'carol', ip: null, failures: 6, locked_at: T0, locked_until: now - 1, reason: 'too_many_failures' });
      });
      const scopes = async (user: string | null, ip: string | null, at = now) => (await store.activeLocks(user, ip, at)).map((l) => l.scope).sort();
      expect(await scopes('alice', '198.51.100.1')).toEqual(['user']);
      expect(await scopes('bob', '192.0.2.2')).toEqual(['user_ip']);
      expect(await scopes('bob', '192.0.2.99')).toEqual([]);
      expect(await scopes('zed', '192.0.2.3')).toEqual(['ip']);
      expect(await scopes('zed', '192.0.2.3', now + 1)).toEqual([]);
      expect(await scopes('carol', null)).toEqual([]);
      expect(await store.countLockedAccounts(now)).toBe(2);
      expect(await store.countLockedAccounts(now, ['alice'])).toBe(1);
      expect((await store.listLockouts({ state: 'locked', now, limit: 10 })).length).toBe(3);
      expect((await store.listLockouts({ state: 'all', now, limit: 10 })).length).toBe(4);
      await store.write(async (tx) => {
        expect(await tx.countLocks('user', 'carol', null)).toBe(1);
        expect(await tx.countLocks('user', 'alice', 'anything')).toBe(1);
        expect(await tx.countLocks('user_ip', 'bob', '192.0.2.2')).toBe(1);
        expect(await tx.countLocks('user_ip', 'bob', '192.0.2.3')).toBe(0);
        const lifted = await tx.unlock({ user: 'bob' }, now, 'ops');
        expect(lifted).toEqual([expect.objectContaining({ user: 'bob', unlocked_at: now, unlocked_by: 'ops' })]);
        expect(await tx.unlock({ user: 'bob' }, now, 'ops')).toEqual([]);
        expect(await tx.unlock({ ip: '192.0.2.3' }, now, 'ops')).toHaveLength(1);
      });
      expect(await scopes('bob', '192.0.2.2')).toEqual([]);
      expect(await store.countLockedAccounts(now)).toBe(1);
    });

    describe('queries', () => {
      beforeEach(async () => {
        await store.write((tx) =>
          tx.insertEvents(
            Array.from({ length: 30 }, (_, i) =>
              event(i, { service: i < 10 ? 'api' : 'portal', ip: `192.0.2.${i % 4}`, reason: i % 2 ? 'invalid_password' : null, email: `U${i % 3}@Example.com`, country: i % 5 === 0 ? 'DE' : 'NL' }),
            ),
          ),
        );
      });

      test('filters, totals and keyset pagination in both orders', async () => {
        const ids = async (order: 'asc' | 'desc', limit: number, filter = {}) => {
          const out: string[] = [];
          let cursor: string | null = null;
          do {
            const p = await store.queryEvents(filter, { limit, cursor, order });
            out.push(...p.events.map((e) => e.id));
            cursor = p.next_cursor;
          } while (cursor);
          return out;
        };
        expect(await ids('asc', 7)).toEqual(Array.from({ length: 30 }, (_, i) => `e${i}`));
        expect(await ids('desc', 4)).toEqual(Array.from({ length: 30 }, (_, i) => `e${29 - i}`));
        expect(await ids('asc', 3, { user: ['u1'], outcome: ['failure'] })).toEqual(['e1', 'e7', 'e13', 'e19', 'e25']);
        const p = await store.queryEvents({ service: ['api', 'portal'], country: ['DE'], from: T0 + 5000, to: T0 + 25_000 }, { limit: 1, cursor: null, order: 'asc' });
        expect(p.total).toBe(4);
        expect((await store.queryEvents({ q: 'u2@example' }, { limit: 1, cursor: null, order: 'asc' })).total).toBe(10);
        expect((await store.queryEvents({ q: '100%_' }, { limit: 1, cursor: null, order: 'asc' })).total).toBe(0);
        expect((await store.queryEvents({ ip: ['192.0.2.1'], reason: ['invalid_password'] }, { limit: 1, cursor: null, order: 'asc' })).total).toBe(8);
      });

      test('streamEvents yields every match in order and can stop early', async () => {
        const got: string[] = [];
        for await (const e of store.streamEvents({ service: ['api'] }, 'desc')) got.push(e.id);
        expect(got).toEqual(['e9', 'e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
        let n = 0;
        for await (const _ of store.streamEvents({}, 'asc')) if (++n === 3) break;
        // Stopping early releases the reader: writes still work.
        expect(await store.write((tx) => tx.insertEvents([event(100)]))).toEqual([true]);
      });

      test('timeseries, stats and distinct values', async () => {
        const rows = await store.timeseries({}, 10_000, 'service');
        expect(rows).toEqual([
          { bucket: T0, key: 'api', count: 10 },
          { bucket: T0 + 10_000, key: 'portal', count: 10 },
          { bucket: T0 + 20_000, key: 'portal', count: 10 },
        ]);
        expect(await store.timeseries({ outcome: ['failure'] }, 30_000, null)).toEqual([{ bucket: T0, key: null, count: 15 }]);
        expect(await store.eventStats({ from: T0, to: T0 + 10_000 })).toEqual({ logins: 5, failures: 5, unique_users: 3 });
        expect(await store.distinctValues('service', {}, 10)).toEqual(['api', 'portal']);
        expect(await store.distinctValues('user', { q: '1' }, 10)).toEqual(['u1']);
        expect(await store.distinctValues('reason', {}, 10)).toEqual(['invalid_password']);
        expect(await store.distinctValues('ip', {}, 2)).toEqual(['192.0.2.0', '192.0.2.1']);
      });

      test('timeseries over long ranges agrees with a direct count (rollup + partial minutes), also after a purge', async () => {
        const { int: rnd, pick } = seeded(7);
        const many = Array.from({ length: 600 }, (_, i) =>
          event(1000 + i, {
            time: T0 + rnd(3 * 3_600_000),
            type: pick(['login', 'login', 'access', 'logout'] as const),
            outcome: pick(['success', 'failure', null] as const),
            reason: pick(['invalid_password', null, 'report_download']),
            service: pick(['api', 'portal', null]),
            country: pick(['NL', 'DE', null]),
          }),
        );
        await store.write((tx) => tx.insertEvents(many));
        const all = [...many];
        for (let i = 0; i < 30; i++) all.push(event(i, { service: i < 10 ? 'api' : 'portal', ip: `192.0.2.${i % 4}`, reason: i % 2 ? 'invalid_password' : null, country: i % 5 === 0 ? 'DE' : 'NL' }));
        const expected = (events: StoredEvent[], f: { from: number; to: number; outcome?: string[]; service?: string[] }, interval: number, group: 'outcome' | 'country' | 'type' | null) => {
          const m = new Map<string, { bucket: number; key: string | null; count: number }>();
          for (const e of events) {
            if (e.time < f.from || e.time >= f.to) continue;
            if (f.outcome && !f.outcome.includes(e.outcome as string)) continue;
            if (f.service && !f.service.includes(e.service as string)) continue;
            const bucket = Math.floor(e.time / interval) * interval;
            const key = group ? (e[group] as string | null) : null;
            const k = `${bucket}|${key}`;
            const cur = m.get(k) ?? { bucket, key, count: 0 };
            cur.count++;
            m.set(k, cur);
          }
          return [...m.values()].sort((a, b) => a.bucket - b.bucket || String(a.key).localeCompare(String(b.key)));
        };
        const cases: [{ from: number; to: number; outcome?: string[]; service?: string[] }, number, 'outcome' | 'country' | 'type' | null][] = [
          [{ from: T0 - 1, to: T0 + 4 * 3_600_000 }, 3_600_000, 'outcome'],
          [{ from: T0 + 12_345, to: T0 + 2 * 3_600_000 + 7_777 }, 600_000, 'country'],
          [{ from: T0 + 30_000, to: T0 + 90_000 }, 60_000, 'type'],
          [{ from: T0 + 61_000, to: T0 + 3 * 3_600_000, outcome: ['failure'], service: ['api', 'portal'] }, 300_000, null],
          [{ from: T0, to: T0 + 3 * 3_600_000 }, 45_000, 'type'],
          [{ from: T0 - 3_600_000 + 5, to: T0 + 3 * 3_600_000 + 61_001 }, 3_600_000, 'country'],
          [{ from: T0 + 59_999, to: T0 + 2 * 3_600_000 + 1 }, 7_200_000, 'outcome'],
        ];
        for (const [f, interval, group] of cases) expect(await store.timeseries(f, interval, group)).toEqual(expected(all, f, interval, group));
        // Event-list totals take the same shortcut; they must be exact too.
        const total = async (f: EventFilter) => (await store.queryEvents(f, { limit: 1, cursor: null, order: 'desc' })).total;
        const direct = (f: EventFilter) =>
          all.filter(
            (e) =>
              (f.from === undefined || e.time >= f.from) &&
              (f.to === undefined || e.time < f.to) &&
              (!f.outcome || f.outcome.includes(e.outcome as string)) &&
              (!f.type || f.type.includes(e.type)) &&
              (!f.country || f.country.includes(e.country as string)),
          ).length;
        for (const f of [{}, { from: T0 + 61_001 }, { to: T0 + 2 * 3_600_000 - 1 }, { from: T0 - 5, to: T0 + 3_600_000 + 120_001, outcome: ['failure'] }, { type: ['access', 'logout'], country: ['NL'] }] as EventFilter[]) {
          expect(await total(f)).toBe(direct(f));
        }
        const cut = T0 + 3_600_000 + 25_000;
        await store.purgeEventsBefore(cut);
        const left = all.filter((e) => e.time >= cut);
        for (const [f, interval, group] of cases) expect(await store.timeseries(f, interval, group)).toEqual(expected(left, f, interval, group));
      });

      test('purgeEventsBefore deletes older events and says how many', async () => {
        expect(await store.purgeEventsBefore(T0 + 10_000)).toBe(10);
        expect((await store.queryEvents({}, { limit: 1, cursor: null, order: 'asc' })).total).toBe(20);
      });
    });

    describe('every query with the values the API lets through', () => {
      // The API range-checks numbers (times 0 … MAX_QUERY_TIME, limits, interval_ms ≤ 366 days)
      // and passes strings through as sent: each store must answer every combination, never fail.
      const DAY = 86_400_000;
      const ODD = ["o'brien", 'a"b', '100%_\\', '\u0000no-match', '\ufffd', '𝕏🙂', 'ä'.repeat(300), ' ', 'x,y', 'NULL'];
      const filters: SearchFilter[] = [
        {},
        { from: 0, to: MAX_QUERY_TIME },
        { from: 0 },
        { to: MAX_QUERY_TIME },
        { from: MAX_QUERY_TIME, to: MAX_QUERY_TIME },
        { user: ODD, type: [...EVENT_TYPES], outcome: ['success', 'failure'], reason: ODD, ip: ODD, service: ODD, country: ODD },
        { user: Array.from({ length: MAX_FILTER_VALUES }, (_, i) => `u${i}`), from: 0, to: MAX_QUERY_TIME },
        ...ODD.map((q) => ({ q })),
        ...ODD.map((q) => ({ q, qExclude: HIDDEN_FIELDS, from: T0, to: T0 + DAY })),
        { type: ['login'], outcome: ['failure'], service: ['api'], country: ['NL'], from: T0 - 1, to: T0 + 3_600_000 + 1 },
      ];
      const cursors = [null, encodeCursor(0, 0), encodeCursor(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), encodeCursor(-Number.MAX_SAFE_INTEGER, -1)];

      beforeEach(async () => {
        await store.write(async (tx) => {
          await tx.insertEvents(Array.from({ length: 12 }, (_, i) => event(i, { service: 'api', ip: `192.0.2.${i}`, country: 'NL', reason: 'invalid_password' })));
          await tx.openSession(session('s-odd', { user: "o'brien" }));
          await tx.insertLock({ scope: 'user', user: 'alice', ip: null, failures: 6, locked_at: T0, locked_until: T0 + 1, reason: 'too_many_failures' });
          await tx.insertLock({ scope: 'user', user: 'alice', ip: null, failures: 6, locked_at: T0 + 2, locked_until: null, reason: 'too_many_failures' });
          await tx.insertLock({ scope: 'ip', user: null, ip: '192.0.2.50', failures: 21, locked_at: T0, locked_until: null, reason: 'too_many_failures' });
        });
      });

      test('events: list (every cursor, order and limit), export, stats', async () => {
        for (const f of filters) {
          for (const cursor of cursors) {
            for (const order of ['asc', 'desc'] as const) {
              for (const limit of [1, 1000]) {
                const p = await store.queryEvents(f, { limit, cursor, order });
                expect(p.events.length).toBeLessThanOrEqual(Math.min(limit, p.total));
              }
            }
          }
          let n = 0;
          for await (const _ of store.streamEvents(f, 'desc')) n++;
          expect(n).toBe((await store.queryEvents(f, { limit: 1, cursor: null, order: 'asc' })).total);
          const stats = await store.eventStats(f);
          expect(stats.logins + stats.failures).toBeLessThanOrEqual(n);
        }
        // Free text without the hidden columns: an IP no longer matches, other columns still do.
        expect((await store.queryEvents({ q: '192.0.2.3' }, { limit: 1, cursor: null, order: 'asc' })).total).toBe(1);
        expect((await store.queryEvents({ q: '192.0.2.3', qExclude: HIDDEN_FIELDS } as SearchFilter, { limit: 1, cursor: null, order: 'asc' })).total).toBe(0);
        expect((await store.queryEvents({ q: 'INVALID_pass', qExclude: HIDDEN_FIELDS } as SearchFilter, { limit: 1, cursor: null, order: 'asc' })).total).toBe(12);
      });

      test('timeseries: every group, the smallest and largest interval the API allows', async () => {
        const ranges: [number, number, number][] = [
          [0, MAX_QUERY_TIME, 366 * DAY],
          [T0, T0 + 11_000, 1],
          [T0 - 1, T0 + 2 * 3_600_000 + 1, 60_000],
          [MAX_QUERY_TIME - 1, MAX_QUERY_TIME, 1],
        ];
        for (const [from, to, interval] of ranges) {
          for (const group of [null, ...GROUP_FIELDS]) {
            for (const f of filters) {
              const rows = await store.timeseries({ ...f, from, to }, interval, group);
              for (const r of rows) expect(r.count).toBeGreaterThan(0);
            }
          }
        }
        const all = await store.timeseries({ from: 0, to: MAX_QUERY_TIME }, 366 * DAY, null);
        expect(all.reduce((n, r) => n + r.count, 0)).toBe(12);
      });

      test('distinct values of every field, with and without free text', async () => {
        for (const field of VALUE_FIELDS) {
          for (const f of filters) {
            for (const limit of [1, 1000]) expect((await store.distinctValues(field, f, limit)).length).toBeLessThanOrEqual(limit);
          }
        }
        expect(await store.distinctValues('ip', { q: '192.0.2.1' }, 1000)).toEqual(['192.0.2.1', '192.0.2.10', '192.0.2.11']);
      });

      test('sessions, lockouts and counts: every state, with and without users, extreme times and limits', async () => {
        const now = T0 + 10;
        for (const user of [undefined, ['alice'], ODD]) {
          for (const state of ['active', 'ended', 'all'] as const) {
            for (const [from, to] of [[undefined, undefined], [0, MAX_QUERY_TIME], [MAX_QUERY_TIME, 0]] as const) {
              for (const limit of [1, 50_000]) await store.listSessions({ state, user, from, to, limit });
            }
          }
          for (const state of ['locked', 'all'] as const) {
            for (const limit of [1, 10_000]) await store.listLockouts({ state, user, now, limit });
          }
          await store.countActiveSessions(user);
          await store.countLockedAccounts(now, user);
        }
        // A user's lock history (state=all with a user) — the PostgreSQL store once left $1 unused here.
        expect((await store.listLockouts({ state: 'all', user: ['alice'], now, limit: 10 })).map((l) => l.locked_at)).toEqual([T0 + 2, T0]);
        expect((await store.listLockouts({ state: 'locked', user: ['alice'], now, limit: 10 })).map((l) => l.locked_at)).toEqual([T0 + 2]);
        expect(await store.listLockouts({ state: 'all', user: ['nobody'], now, limit: 10 })).toEqual([]);
        expect((await store.listSessions({ state: 'all', user: ["o'brien"], from: 0, to: MAX_QUERY_TIME, limit: 1 })).map((s) => s.id)).toEqual(['s-odd']);
        for (const id of ODD) expect(await store.getSession(id)).toBeUndefined();
        for (const [u, ip] of [[null, null], ['alice', null], [null, '192.0.2.50'], ...ODD.map((o) => [o, o])] as [string | null, string | null][]) {
          await store.activeLocks(u, ip, now);
          await store.activeLocks(u, ip, MAX_QUERY_TIME);
        }
        expect(await store.getPolicy()).toEqual(DEFAULT_POLICY);
      });
    });
  });
}
