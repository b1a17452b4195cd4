// SQLite queries that stay fast as history grows must still give exactly the answers of the plain
// scans they replace: free text through the term index vs LIKE over the columns, unique users
// from user_last_seen vs count(DISTINCT user), time series and totals from the rollups vs
// GROUP BY over the events. Each store answers, and a raw connection computes the scan.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { HIDDEN_FIELDS } from '../src/schema/redact';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { filterSql, type SearchFilter } from '../src/store/filter-sql';
import { SqliteStore } from '../src/store/sqlite';
import { SqliteWorkerStore } from '../src/store/sqlite-worker';
import type { CoreStore, GroupField } from '../src/store/store';
import { tempDir } from './helpers/server';
import { seeded } from './helpers/seeded';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-01T00:00:00Z');

const { int: rnd, pick } = seeded(11);

const USERS = ['Alice', 'alice', 'bob', 'Carol.Ng', "o'brien", 'dave_1', 'eve%x', 'Zoë', 'ÅSA', 'mallory', 'trent', 'peggy', 'victor', 'walter'];
const UAS = ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'PaymentPortal/5.2.1 (Android 13; SM-S911B)', 'curl/8.5.0', null];
const REASONS = ['invalid_password', 'unknown_user', 'mfa_failed', null];
const SERVICES = ['payment-portal', 'admin-console', 'sshd', null];

function makeEvents(n: number, prefix: string, from: number, span: number): StoredEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const user = pick(USERS);
    return blankEvent({
      id: `${prefix}${i}`,
      time: from + rnd(span),
      type: pick(['login', 'login', 'access', 'logout'] as const),
      user,
      outcome: pick(['success', 'failure', null] as const),
      reason: pick(REASONS),
      email: rnd(3) ? `${user.toLowerCase()}@Example.COM` : null,
      ip: rnd(5) ? `${pick(['192.0.2.', '198.51.100.', '2001:db8::'])}${rnd(40)}` : null,
      user_agent: pick(UAS),
      service: pick(SERVICES),
      country: pick(['NL', 'DE', null]),
    });
  });
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Free-text probes: substrings of stored values in other cases, wildcards, short and odd strings. */
function probes(): string[] {
  const out = new Set<string>(['a', 'Al', 'ALI', 'alice', 'example.com', '@EXAMPLE', '192.0.2.1', '2001:DB8::3', '%', '_', 'e%x', 've_', 'eve\\', "o'b", 'zoë', 'ZOË', 'åsa', 'Firefox/125', 'sm-s911', 'curl/', 'invalid_', 'password', 'payment-', 'sshd', 'nothing-here', '  ', 'ö', '"quoted"', 'a OR b', 'NEAR(x y)', '*']);
  for (let i = 0; i < 40; i++) {
    const v = pick([...USERS, ...UAS.filter(Boolean), ...REASONS.filter(Boolean), ...SERVICES.filter(Boolean)]) as string;
    const a = rnd(v.length);
    const s = v.slice(a, a + 3 + rnd(6));
    out.add(rnd(2) ? s.toUpperCase() : s);
  }
  return [...out];
}

const stores: [string, (file: string) => Promise<CoreStore>][] = [
  ['in-process', async (file) => new SqliteStore(file)],
  ['worker threads', (file) => SqliteWorkerStore.open(file)],
];

describe.each(stores)('sqlite %s', (_name, open) => {
  let store: CoreStore;
  let raw: Database.Database;
  let file: string;

  beforeAll(async () => {
    const dir = tempDir();
    dirs.push(dir);
    file = join(dir, 'q.db');
    store = await open(file);
    await store.write((tx) => tx.insertEvents(makeEvents(1500, 'a', T0, 3 * DAY)));
    await store.write((tx) => tx.insertEvents(makeEvents(1500, 'b', T0 + DAY, 40 * DAY)));
    raw = new Database(file, { readonly: true });
  });
  afterAll(async () => {
    raw.close();
    await store.close();
  });

  const scan = (f: SearchFilter) => {
    const w = filterSql(f);
    return {
      total: raw.prepare(`SELECT count(*) FROM events ${w.where}`).pluck().get(...w.params) as number,
      ids: raw.prepare(`SELECT id FROM events ${w.where} ORDER BY time DESC, seq DESC LIMIT 20`).pluck().all(...w.params) as string[],
      users: raw.prepare(`SELECT count(DISTINCT user) FROM events ${w.where}`).pluck().get(...w.params) as number,
    };
  };
  const page = async (f: SearchFilter) => {
    const p = await store.queryEvents(f, { limit: 20, cursor: null, order: 'desc' });
    return { total: p.total, ids: p.events.map((e) => e.id) };
  };

  test('free text finds exactly what a LIKE scan over the columns finds', async () => {
    let nonEmpty = 0;
    for (const q of probes()) {
      for (const f of [{ q }, { q, qExclude: HIDDEN_FIELDS }, { q, from: T0 + DAY, to: T0 + 5 * DAY, type: ['login'] }] as SearchFilter[]) {
        const want = scan(f);
        expect({ q, ...(await page(f)) }).toEqual({ q, total: want.total, ids: want.ids });
        if (want.total) nonEmpty++;
      }
    }
    expect(nonEmpty).toBeGreaterThan(50);
  });

  test('an export with free text yields what the scan yields', async () => {
    const f: SearchFilter = { q: 'ALICE' };
    const got: string[] = [];
    for await (const e of store.streamEvents(f, 'asc')) got.push(e.id);
    const w = filterSql(f);
    expect(got).toEqual(raw.prepare(`SELECT id FROM events ${w.where} ORDER BY time, seq`).pluck().all(...w.params));
  });

  test('values first seen in a rolled-back write are found once they are stored for real', async () => {
    const fresh = (id: string) => blankEvent({ id, time: T0 + 2 * DAY, type: 'login', user: 'Rolled-Back-User', ip: '203.0.113.77', user_agent: 'Rollback/1.0' });
    await expect(
      store.write(async (tx) => {
        await tx.insertEvents([fresh('rb1')]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await store.write(async (tx) => {
      await expect(
        tx.savepoint(async () => {
          await tx.insertEvents([fresh('rb2')]);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
    });
    expect((await page({ q: 'rolled-back' })).total).toBe(0);
    await store.write((tx) => tx.insertEvents([fresh('rb3')]));
    for (const q of ['rolled-back-user', '203.0.113.77', 'rollback/1']) expect(await page({ q })).toEqual({ total: 1, ids: ['rb3'] });
  });

  test('totals for any range and filter agree with the events', async () => {
    for (const f of [
      {},
      { from: T0 + 12_345, to: T0 + 9 * DAY + 61_001 },
      { from: T0 + DAY + 7, type: ['login'], outcome: ['failure'] },
      { to: T0 + 20 * DAY - 1, reason: ['unknown_user'] },
      { from: T0 + 3 * HOUR + 5, to: T0 + 33 * DAY, service: ['sshd'], country: ['DE'] },
      { country: ['NL'], type: ['access', 'logout'] },
    ] as SearchFilter[]) {
      expect({ f, total: (await page(f)).total }).toEqual({ f, total: scan(f).total });
    }
  });

  test('unique users, logins and failures for any range agree with the events', async () => {
    const latest = raw.prepare('SELECT max(time) FROM events').pluck().get() as number;
    const ranges: SearchFilter[] = [
      {},
      { from: T0 + 12_345 },
      { from: T0 + 5 * DAY + 1, to: latest + 1 },
      { from: T0 + 30 * DAY + 59 * 60_000 + 17, to: latest + DAY },
      { from: T0 + DAY + HOUR, to: T0 + 2 * DAY },
      { from: T0 + DAY + 7, to: T0 + DAY + 8 * HOUR + 3 },
      { from: latest - HOUR + 1 },
      { from: latest + 1 },
      { from: T0 + 2 * DAY, service: ['sshd'] },
      { from: T0, to: T0 + DAY, user: ['alice', 'bob'] },
    ];
    for (const f of ranges) {
      const stats = await store.eventStats(f);
      const w = filterSql(f);
      const row = raw
        .prepare(
          `SELECT coalesce(sum(type = 'login' AND outcome = 'success'), 0) AS logins, coalesce(sum(type = 'login' AND outcome = 'failure'), 0) AS failures,
                  count(DISTINCT user) AS unique_users FROM events ${w.where}`,
        )
        .get(...w.params);
      expect({ f, ...stats }).toEqual({ f, ...(row as object) });
    }
  });

  test('time series for the dashboards’ ranges (default intervals) and every group agree with GROUP BY over the events', async () => {
    const now = T0 + 41 * DAY - 12_345;
    for (const span of [DAY, 7 * DAY, 30 * DAY]) {
      const from = now - span;
      const interval = Math.max(1000, Math.ceil(span / 100 / 1000) * 1000);
      for (const group of [null, 'outcome', 'reason', 'service', 'country', 'type'] as (GroupField | null)[]) {
        // Each filter picks another rollup: totals, one breakdown, or the full cube (two breakdowns).
        const extras: SearchFilter[] = [
          {},
          { type: ['login'], outcome: ['failure'] },
          { reason: ['invalid_password', 'mfa_failed'] },
          { service: ['sshd'], outcome: ['failure', 'success'] },
          { service: ['payment-portal'], country: ['NL'] },
        ];
        for (const extra of extras) {
          const f = { ...extra, from, to: now };
          const w = filterSql(f);
          const key = group ? `"${group}"` : 'NULL';
          const want = raw
            .prepare(
              `SELECT (time / CAST(? AS INTEGER)) * ? AS bucket, ${key} AS key, count(*) AS count FROM events ${w.where} GROUP BY 1, 2 ORDER BY 1, 2`,
            )
            .all(interval, interval, ...w.params) as { bucket: number; key: string | null; count: number }[];
          const got = await store.timeseries(f, interval, group);
          const norm = (rows: { bucket: number; key: string | null; count: number }[]) =>
            rows.map((r) => `${r.bucket}|${r.key}|${r.count}`).sort();
          expect({ span, group, rows: norm(got) }).toEqual({ span, group, rows: norm(want) });
        }
      }
    }
  });
});

describe('what answers: the rollups and the term index, not a scan of the events', () => {
  test('a 30-day series reads whole hours from the hourly totals; free text reads event_terms', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'w.db');
    const store = new SqliteStore(file);
    await store.write((tx) => tx.insertEvents(makeEvents(500, 'w', T0, 30 * DAY)));
    const from = T0 + 123_456;
    const to = T0 + 30 * DAY - 654_321;
    const interval = 25_920_000;
    const sum = async () => (await store.timeseries({ from, to }, interval, null)).reduce((n, r) => n + r.count, 0);
    const before = await sum();
    const one = (await store.queryEvents({}, { limit: 1, cursor: null, order: 'desc' })).events[0];
    const q = one.user.toUpperCase();
    const rw = new Database(file);
    // Tampering with the derived tables changes the answers: they are what the queries read.
    // An hour inside one output bucket (an hour across a bucket boundary is read by the minute).
    rw.prepare(
      `UPDATE event_counts_by_hour SET count = count + 1000 WHERE (dim, bucket, type, outcome, value) IN (
         SELECT dim, bucket, type, outcome, value FROM event_counts_by_hour
         WHERE dim = '' AND bucket >= ? AND bucket + 3600000 <= ? AND bucket / ${interval} = (bucket + 3599999) / ${interval} LIMIT 1)`,
    ).run(from, to);
    const seq = rw.prepare('SELECT seq FROM events WHERE id = ?').pluck().get(one.id);
    const hits = (await store.queryEvents({ q }, { limit: 1, cursor: null, order: 'desc' })).total;
    rw.prepare('DELETE FROM event_terms WHERE rowid = ?').run(seq);
    rw.close();
    expect(await sum()).toBe(before + 1000);
    expect(hits).toBeGreaterThan(1);
    expect((await store.queryEvents({ q }, { limit: 1, cursor: null, order: 'desc' })).total).toBe(hits - 1);
    await store.close();
  });
});
