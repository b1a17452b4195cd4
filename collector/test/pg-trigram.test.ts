// Free text (`q`) on PostgreSQL through the pg_trgm index of migration 4, on a real server: the
// planner reaches every partition through the index (EXPLAIN), the answers are the SQLite store's
// for the same events and the same q (wildcards, backslash, U+0000, case, short q), and without
// pg_trgm the collector still migrates, warns once and answers by scanning.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { HIDDEN_FIELDS } from '../src/schema/redact';
import { createLogger } from '../src/log';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { eventWhere, SELECT_EVENT } from '../src/store/engine/events';
import { runAsync } from '../src/store/engine/plan';
import { postgresMigrations } from '../src/store/migrations/postgres';
import type { SearchFilter } from '../src/store/filter-sql';
import { PostgresStore } from '../src/store/postgres';
import { numbered, pgDialect, rowsOf, warnIfNoTextIndex } from '../src/store/postgres-dialect';
import { dayPartition, maintainPartitions } from '../src/store/postgres-partitions';
import { SqliteStore } from '../src/store/sqlite';
import type { CoreStore } from '../src/store/store';
import { describeWithPostgres, PG_ADMIN_URL, runSql, TestDatabases } from './helpers/postgres-db';
import { tempDir } from './helpers/server';
import { seeded } from './helpers/seeded';

const DAY = 86_400_000;
const N = 100_000;
const dbs = new TestDatabases();
const dirs: string[] = [];
afterAll(async () => {
  await dbs.dropAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const { int: rnd, pick } = seeded(23);

// Values that stress the matching rules: case (ASCII and not), LIKE wildcards and the escape
// character stored literally, a newline, U+FFFD (what PostgreSQL stores for U+0000).
const ODD_USERS = ['Alice', 'alice', 'Carol.Ng', "o'brien", 'dave_1', 'eve%x', 'back\\slash', 'Zoë', 'ZOË', 'ÅSA', 'åsa', 'line\nbreak', 'rep\ufffdlaced', 'K\u212aelvin'];
const UAS = ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0', 'PaymentPortal/5.2.1 (Android 13; SM-S911B)', 'curl/8.5.0', null];
const REASONS = ['invalid_password', 'unknown_user', 'mfa_failed', null];
const SERVICES = ['payment-portal', 'admin-console', 'sshd', null];

/** Events over today and the next two days (their partitions) and a week back (the default partition). */
function makeEvents(n: number, now: number): StoredEvent[] {
  const day0 = dayPartition(now).from;
  return Array.from({ length: n }, (_, i) => {
    const user = rnd(5) ? `Member${String(rnd(20_000)).padStart(5, '0')}` : pick(ODD_USERS);
    const start = rnd(10) ? day0 + rnd(3) * DAY : day0 - 7 * DAY;
    return blankEvent({
      id: `e${i}`,
      time: start + rnd(DAY),
      type: pick(['login', 'login', 'access', 'logout'] as const),
      user,
      outcome: pick(['success', 'failure', null] as const),
      reason: pick(REASONS),
      email: rnd(3) ? `${user.toLowerCase()}@Example.COM` : null,
      ip: rnd(5) ? `${pick(['192.0.2.', '198.51.100.', '2001:db8::'])}${rnd(250)}` : null,
      user_agent: pick(UAS),
      service: pick(SERVICES),
    });
  });
}

/** q values: substrings in other cases, wildcards, the escape character, U+0000, short and odd strings. */
const PROBES = [
  'MEMBER01234', 'member1', 'Member0000', 'a', 'Al', 'ALI', 'alice', 'example.com', '@EXAMPLE', '192.0.2.1', '2001:DB8::3', '198.51',
  '%', '_', '\\', '%%', 'e%x', 've_', 'eve\\', 'k\\s', 'o\'b', '"', 'zoë', 'ZOË', 'Zoë', 'åsa', 'ÅSA', 'kelvin', 'K\u212aEL',
  'Firefox/125', 'sm-s911', 'curl/', 'invalid_', 'PASSWORD', 'payment-', 'sshd', 'nothing-here', '  ', 'ö', '\ufffd', 'REP\ufffd',
  '\u0000', 'ali\u0000', 'ALICE\u0000zzz', 'Member\u0000', 'x\u0000', '\n', 'line\nbreak', 'e\nb', 'com\nm', '.', '...', '::',
];

describeWithPostgres('pg trigram')('free text on PostgreSQL', () => {
  let pgStore: PostgresStore;
  let sqlite: CoreStore;
  let raw: pg.Client;
  let url: string;

  beforeAll(async () => {
    url = await dbs.create();
    pgStore = await PostgresStore.open(url);
    const dir = tempDir();
    dirs.push(dir);
    sqlite = new SqliteStore(join(dir, 'q.db'));
    const events = makeEvents(N, Date.now());
    for (let i = 0; i < events.length; i += 2000) {
      const batch = events.slice(i, i + 2000);
      await pgStore.write((tx) => tx.insertEvents(batch));
      await sqlite.write((tx) => tx.insertEvents(batch));
    }
    raw = new pg.Client({ connectionString: url });
    await raw.connect();
    // What autovacuum does to a table after a load (statistics; GIN pending lists merged), without waiting for it.
    await raw.query('VACUUM ANALYZE events');
  }, 300_000);
  afterAll(async () => {
    await raw?.end();
    await pgStore?.close();
    await sqlite?.close();
  });

  /** The trigram index of each partition (the parent's index, attached to every partition). */
  const trigramIndexes = async () =>
    (
      await raw.query<{ table: string; index: string }>(
        `SELECT c.relname AS table, ic.relname AS index
           FROM pg_inherits t JOIN pg_class c ON c.oid = t.inhrelid
           JOIN pg_index x ON x.indrelid = c.oid JOIN pg_class ic ON ic.oid = x.indexrelid
           JOIN pg_inherits ti ON ti.inhrelid = x.indexrelid AND ti.inhparent = 'events_q_trgm'::regclass
          WHERE t.inhparent = 'events'::regclass ORDER BY 1`,
      )
    ).rows;

  test('every partition, existing or made later, carries the trigram index of the parent', async () => {
    const parts = (await raw.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1`)).rows.map((r) => r.name);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    expect((await trigramIndexes()).map((r) => r.table)).toEqual(parts);
    const [{ def }] = (await raw.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'events_q_trgm'`)).rows;
    expect(def).toMatch(/USING gin \(lower\(.*COLLATE "C"\)\) gin_trgm_ops\)/s);
    // A partition created later (a replica running weeks on) gets one too.
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      expect(await maintainPartitions(pool, Date.now() + 30 * DAY)).toHaveLength(3);
    } finally {
      await pool.end();
    }
    const later = dayPartition(Date.now() + 31 * DAY).name;
    expect((await trigramIndexes()).map((r) => r.table)).toContain(later);
  });

  test('q reads every partition through the trigram index, never by a sequential scan', async () => {
    const indexes = new Set((await trigramIndexes()).map((r) => r.index));
    // Each partition that will be scanned holds rows: a Seq Scan anywhere would be a real one.
    const empty = (await raw.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass AND c.reltuples <= 0`)).rows;
    const day0 = dayPartition(Date.now()).from;
    for (const filter of [{ q: 'MEMBER01234' }, { q: 'member0123', qExclude: HIDDEN_FIELDS }, { q: '198.51.100.7', from: day0 - 7 * DAY, to: day0 + 3 * DAY }] as SearchFilter[]) {
      const w = await runAsync(eventWhere(pgDialect, filter), rowsOf(raw));
      for (const sql of [`SELECT count(*) FROM events ${w.where}`, `${SELECT_EVENT} ${w.where} ORDER BY "time" DESC, seq DESC LIMIT 101`]) {
        const [{ 'QUERY PLAN': plan }] = (await raw.query(`EXPLAIN (FORMAT JSON) ${numbered(sql)}`, w.params)).rows;
        const nodes: { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string }[] = [];
        const walk = (n: { Plans?: unknown[] } & (typeof nodes)[number]) => {
          nodes.push(n);
          for (const c of n.Plans ?? []) walk(c as typeof n);
        };
        walk(plan[0].Plan);
        const seqScans = nodes.filter((n) => n['Node Type'] === 'Seq Scan' && !empty.some((e) => e.relname === n['Relation Name']));
        expect({ filter, seqScans }).toEqual({ filter, seqScans: [] });
        const used = new Set(nodes.filter((n) => n['Node Type'] === 'Bitmap Index Scan').map((n) => n['Index Name']));
        // The four partitions holding rows (three days and the default) answer from their trigram index.
        expect(used.size).toBe(4);
        for (const i of used) expect(indexes).toContain(i);
      }
    }
  });

  test('answers equal the SQLite store for the same events and the same q', async () => {
    const day0 = dayPartition(Date.now()).from;
    const page = async (s: CoreStore, f: SearchFilter) => {
      const p = await s.queryEvents(f, { limit: 20, cursor: null, order: 'desc' });
      return { total: p.total, ids: p.events.map((e) => e.id) };
    };
    let nonEmpty = 0;
    for (const q of PROBES) {
      for (const f of [{ q }, { q, qExclude: HIDDEN_FIELDS, from: day0, to: day0 + 2 * DAY, type: ['login'] }] as SearchFilter[]) {
        const want = await page(sqlite, f);
        expect({ q, ...(await page(pgStore, f)) }).toEqual({ q, ...want });
        if (want.total) nonEmpty++;
      }
    }
    // The corpus really finds things (wildcards literal: '%' finds only the stored 'eve%x').
    expect(nonEmpty).toBeGreaterThan(50);
    expect((await page(pgStore, { q: '%' })).total).toBe((await page(pgStore, { q: 'eve%x' })).total);
  }, 240_000);
});

describeWithPostgres('pg trigram without pg_trgm')('free text on PostgreSQL without pg_trgm', () => {
  const role = `authwatch_nopriv_${process.pid}`;
  const admin = (sql: string, dbUrl = PG_ADMIN_URL!) => runSql(dbUrl, sql);
  let url: string;
  beforeAll(async () => {
    await admin(`DROP ROLE IF EXISTS ${role}`);
    await admin(`CREATE ROLE ${role} LOGIN PASSWORD 'nopriv'`);
    const adminDb = await dbs.create();
    // The collector's role may create tables, not extensions (no CREATE on the database).
    await admin(`GRANT CREATE, USAGE ON SCHEMA public TO ${role}`, adminDb);
    const u = new URL(adminDb);
    u.username = role;
    u.password = 'nopriv';
    url = u.toString();
  });
  afterAll(async () => {
    await dbs.dropAll();
    await admin(`DROP ROLE IF EXISTS ${role}`);
  });

  test('the collector migrates, warns once, and q answers by scanning', async () => {
    const store = await PostgresStore.open(url);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      // Every migration ran, the trigram one included (it only warned).
      expect((await c.query(`SELECT max(version) AS v FROM schema_migrations`)).rows[0].v).toBe(postgresMigrations[postgresMigrations.length - 1].version);
      expect((await c.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'pg_trgm'`)).rows[0].n).toBe(0);
      expect((await c.query(`SELECT to_regclass('events_q_trgm') AS i`)).rows[0].i).toBeNull();
      const lines: string[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
      expect(await warnIfNoTextIndex(c, createLogger(sink))).toBe(false);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', msg: expect.stringMatching(/pg_trgm.*docs\/collector\.md/) });
      const now = Date.now();
      await store.write((tx) =>
        tx.insertEvents([
          blankEvent({ id: 'a', time: now, type: 'login', user: 'Alice', user_agent: 'curl/8.5.0' }),
          blankEvent({ id: 'b', time: now, type: 'login', user: 'bob%', email: 'BOB@example.com' }),
          blankEvent({ id: 'c', time: now, type: 'login', user: 'Zoë' }),
        ]),
      );
      const ids = async (q: string) => (await store.queryEvents({ q }, { limit: 10, cursor: null, order: 'asc' })).events.map((e) => e.id);
      expect(await ids('ALICE')).toEqual(['a']);
      expect(await ids('CURL/8')).toEqual(['a']);
      expect(await ids('b%')).toEqual(['b']);
      expect(await ids('%')).toEqual(['b']);
      expect(await ids('@EXAMPLE')).toEqual(['b']);
      expect(await ids('ZOË')).toEqual([]);
      expect(await ids('zoë')).toEqual(['c']);
    } finally {
      await c.end();
      await store.close();
    }
  });
});
