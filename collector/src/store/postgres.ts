// PostgreSQL store: the same contract as the SQLite store, for several collector replicas on one
// database (docs/scale-out.md).
//  - Writes lock per key, not per cluster: a write names the users, addresses and sessions it
//    touches and takes transaction-scoped advisory locks for them in a fixed order
//    (postgres-locks.ts), so batches for different users commit in parallel on every replica while
//    lockout counting and attempt reservations stay exact. A write without keys (admin actions,
//    the sweeper) takes the cluster-wide write lock exclusively, as every write used to. COMMIT or
//    ROLLBACK releases the locks whatever happens to the process.
//  - Writes are batch-shaped: one statement inserts a batch's events and rollups, one fetches what
//    the processors will ask about its keys, one writes what they changed (postgres-tx.ts).
//  - Lock changes are announced with NOTIFY (onLockChange), so replicas can answer /v1/check from
//    memory and learn of other replicas' locks and unlocks as soon as they commit.
//  - Events are partitioned by day; retention drops whole partitions (maintainPartitions,
//    purgeEventsBefore).
// Reads use a pool; CSV export streams through a server-side cursor.
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import type { StoredEvent } from '../schema/stored-event';
import { DEFAULT_POLICY } from '../schema/policy';
import { postgresMigrations } from './migrations/postgres';
import { migratePostgres } from './postgres-migrate';
import { pgParam } from './postgres-text';
import { WRITE_LOCK_KEY, planLocks, type LockPlan } from './postgres-locks';
import { LOCK_CHANNEL, POLICY_CHANNEL, PgWriteTx, activeLock, activeLocksQuery, type LockChange, type TxMemory } from './postgres-tx';
import { decodeCursor, encodeCursor, escapeLike, filterSql } from './filter-sql';
import { BadQuery } from './store';
import { BucketSums, type Bucket } from './bucket-sums';
import { EVENT_COLUMNS, ROLLUPS, eventMapper, rowToLock, rowToSession } from './rows';
import type { Attributes, Row } from './rows';
import type {
  CoreStore,
  CoreWriteTx,
  EventFilter,
  EventPage,
  GroupField,
  LockKeys,
  LockQuery,
  LockRow,
  Policy,
  SessionQuery,
  SessionRow,
  ValueField,
} from './store';

export { WRITE_LOCK_KEY };
/** Advisory lock key of partition maintenance ("awpm"): one replica at a time creates partitions. */
export const PARTITION_LOCK_KEY = 0x6177706d;
/** Rows per FETCH when streaming an export. */
const STREAM_BATCH = 500;
const DAY_MS = 86_400_000;
/** Daily partitions exist ahead of the clock for today and this many days after. */
const DAYS_AHEAD = 2;
/** How often each replica checks that the coming days have their partitions. */
const MAINTENANCE_EVERY_MS = 3_600_000;
/** Write connections per replica: the pipeline's group commit plus concurrent checks and admin writes. */
const WRITERS = 4;

type Param = (n: number) => string;
const dollar: Param = (n) => `$${n}`;

// bigint (counts, epoch ms, seq) and numeric (sums) as JS numbers: every value we store fits in 2^53.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const COLS = EVENT_COLUMNS.map((c) => `"${c}"`).join(', ');
const SELECT_EVENT = `SELECT seq, ${COLS} FROM events`;

// jsonb arrives parsed.
const rowToEvent = eventMapper((v) => (v ?? null) as Attributes | null);

const ROLLUP_DIMS = ['type', 'outcome', 'reason', 'service', 'country'] as const;

/** Something that runs a query: the pool, or the write transaction's client. */
interface Queryable {
  query<R extends QueryResultRow = Row>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The same queries with every string parameter made storable (see postgres-text.ts). */
function cleaned(db: pg.Pool | PoolClient): Queryable {
  return { query: <R extends QueryResultRow = Row>(sql: string, params?: unknown[]) => db.query<R>(sql, params?.map(pgParam)) };
}

export type { LockChange };

export interface LockSubscription {
  /** Resolves once the listener is connected: changes committed after this are delivered. */
  ready: Promise<void>;
  close(): void;
}

/** Day partition name and bounds for the UTC day containing `time`. */
export function dayPartition(time: number): { name: string; from: number; to: number } {
  const from = Math.floor(time / DAY_MS) * DAY_MS;
  const d = new Date(from);
  const name = `events_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return { name, from, to: from + DAY_MS };
}

const PARTITION_NAME = /^events_p(\d{4})(\d{2})(\d{2})$/;

export class PostgresStore implements CoreStore {
  readonly description: string;
  private closed = false;
  private readonly db: Queryable;
  private readonly txMemory: TxMemory = { lastPrune: 0, stateNamespaces: new Map() };
  private active = 0;
  private drained: (() => void)[] = [];
  private readonly lockListeners = new Set<(c: LockChange) => void>();
  private notifications: Notifications | null = null;
  private mirror: LockMirror | null = null;
  private policyCache: Policy | null = null;
  /** Bumped by every policy change seen: a read that overlapped one is not cached. */
  private policyGen = 0;
  private maintenance: NodeJS.Timeout | null = null;

  private constructor(
    /** Reads and exports. */
    private readonly pool: pg.Pool,
    /** Write transactions. */
    private readonly writer: pg.Pool,
    private readonly url: string,
  ) {
    this.description = redactUrl(url);
    this.db = cleaned(pool);
  }

  /** Connects, migrates (under an advisory lock), creates the coming days' partitions. */
  static async open(url: string, options: { max?: number; writers?: number } = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types: typeParsers });
    const writer = new pg.Pool({ connectionString: url, max: options.writers ?? WRITERS, types: typeParsers });
    // An idle client losing its server must not crash the process; the next query reconnects.
    for (const p of [pool, writer]) p.on('error', () => undefined);
    let store: PostgresStore;
    try {
      await migratePostgres(writer, postgresMigrations);
      store = new PostgresStore(pool, writer, url);
      await store.maintainPartitions();
    } catch (e) {
      await Promise.all([pool.end(), writer.end()]);
      throw e;
    }
    store.maintenance = setInterval(() => void store.maintainPartitions().catch(() => undefined), MAINTENANCE_EVERY_MS);
    store.maintenance.unref();
    return store;
  }

  async write<T>(fn: (tx: CoreWriteTx) => Promise<T>, keys?: LockKeys): Promise<T> {
    const plan = planLocks(keys);
    let tx: PgWriteTx | undefined;
    const result = await this.transaction(plan, async (client) => {
      tx = new PgWriteTx(client, plan, this.txMemory);
      const r = await fn(tx);
      await tx.finish();
      return r;
    });
    // Committed: this replica's own changes count at once, before its notification comes back.
    for (const change of tx!.lockChanges) this.mirror?.apply(change);
    if (tx!.policyChanged) this.policyChanged();
    return result;
  }

  private policyChanged(): void {
    this.policyCache = null;
    this.policyGen++;
  }

  /** The LISTEN connection (started on first use): lock and policy changes from every replica. */
  private listen(): Notifications {
    this.notifications ??= new Notifications(this.url, {
      lock: (change) => {
        this.mirror?.apply(change);
        for (const l of this.lockListeners) {
          try {
            l(change);
          } catch {
            // One listener's failure must not stop the others.
          }
        }
      },
      policy: () => this.policyChanged(),
      // Whatever was announced while nobody listened is unknown: start again from the database.
      gap: () => {
        this.policyChanged();
        this.mirror?.reload();
      },
    });
    return this.notifications;
  }

  /** One write transaction on a writer connection, holding the write lock (shared when keyed). */
  private async transaction<T>(plan: LockPlan, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    this.active++;
    let c: PoolClient | undefined;
    let broken: Error | undefined;
    try {
      c = await this.writer.connect();
      // READ COMMITTED (the default): each statement sees everything committed before it, so once
      // a lock is granted we read what the previous holder (any replica) wrote.
      await c.query(`BEGIN; SELECT ${plan.exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(${WRITE_LOCK_KEY})`);
      try {
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (e) {
        await c.query('ROLLBACK').catch((err: Error) => (broken = err));
        throw e;
      }
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: drop it rather than reuse it.
      c?.release(broken);
      if (--this.active === 0) for (const done of this.drained.splice(0)) done();
    }
  }

  /**
   * Listens for lock changes made on any replica (this one included), delivered as each commits.
   * After a lost connection the listener reconnects and sends a resync: reload the locks then.
   */
  onLockChange(listener: (c: LockChange) => void): LockSubscription {
    this.lockListeners.add(listener);
    return { ready: this.listen().ready, close: () => void this.lockListeners.delete(listener) };
  }

  /**
   * Makes sure today and the next DAYS_AHEAD days have their partitions (rows already in the
   * default partition for such a day move into it). One replica at a time; the others skip.
   */
  async maintainPartitions(now = Date.now()): Promise<string[]> {
    const created: string[] = [];
    for (let d = 0; d <= DAYS_AHEAD; d++) {
      const p = dayPartition(now + d * DAY_MS);
      const c = await this.writer.connect();
      let broken: Error | undefined;
      try {
        await c.query('BEGIN');
        await c.query("SET LOCAL lock_timeout = '5s'");
        const [{ mine }] = (await c.query<{ mine: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS mine', [PARTITION_LOCK_KEY])).rows;
        const [{ exists }] = (await c.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [p.name])).rows;
        if (!mine || exists) {
          await c.query('COMMIT');
          continue;
        }
        // Built beside the table, then attached: the parent is never locked against readers, and
        // rows the default partition already holds for that day move with it.
        await c.query(`CREATE TABLE ${p.name} (LIKE events INCLUDING DEFAULTS)`);
        await c.query('LOCK TABLE events_default IN EXCLUSIVE MODE');
        await c.query(`INSERT INTO ${p.name} SELECT * FROM events_default WHERE "time" >= $1 AND "time" < $2`, [p.from, p.to]);
        await c.query('DELETE FROM events_default WHERE "time" >= $1 AND "time" < $2', [p.from, p.to]);
        await c.query(`ALTER TABLE events ATTACH PARTITION ${p.name} FOR VALUES FROM (${p.from}) TO (${p.to})`);
        await c.query('COMMIT');
        created.push(p.name);
      } catch (e) {
        await c.query('ROLLBACK').catch((err: Error) => (broken = err));
        throw e;
      } finally {
        c.release(broken);
      }
    }
    return created;
  }

  /** Day partitions, oldest first. */
  async partitions(): Promise<{ name: string; from: number; to: number }[]> {
    const rows = (
      await this.db.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`)
    ).rows;
    const out: { name: string; from: number; to: number }[] = [];
    for (const { name } of rows) {
      const m = PARTITION_NAME.exec(name);
      if (m) out.push(dayPartition(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
    }
    return out.sort((a, b) => a.from - b.from);
  }

  /** Retention cuts at a partition boundary here, so it drops whole days (retention.ts). */
  retentionCut(before: number): number {
    return Math.floor(before / DAY_MS) * DAY_MS;
  }

  async getOrCreateMeta(key: string, make: () => string): Promise<string> {
    return this.transaction(planLocks(undefined), async (client) => {
      const c = cleaned(client);
      await c.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, make()]);
      return (await c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])).rows[0].value;
    });
  }

  /** From memory while the change notifications flow; read (and remembered) otherwise. */
  async getPolicy(): Promise<Policy> {
    const n = this.listen();
    if (this.policyCache && n.connected) return { ...this.policyCache };
    const gen = this.policyGen;
    const p = await readPolicy(this.pool);
    if (n.connected && gen === this.policyGen) this.policyCache = p;
    return { ...p };
  }

  /**
   * The locks in force for /v1/check: from this replica's mirror of every lock in force, kept
   * current by the notifications of every replica (its own commits at once); read from the
   * database while the mirror is not loaded or the notifications are not flowing.
   */
  async activeLocks(user: string | null, ip: string | null, now: number): Promise<LockRow[]> {
    this.mirror ??= new LockMirror(this.listen(), async (at) =>
      (await this.db.query(`SELECT id, scope, "user", ip, failures, locked_at, locked_until, reason FROM lockouts WHERE ${activeLock('$1')}`, [at])).rows as MirroredLock[],
    );
    const fromMemory = this.mirror.locksFor(user === null ? null : (pgParam(user) as string), ip === null ? null : (pgParam(ip) as string), now);
    if (fromMemory) return fromMemory;
    // this.db, not the raw pool: strings made storable like every other query's (U+0000 → 500).
    return activeLocksQuery(async (sql, params) => (await this.db.query(sql, params)).rows, user, ip, now);
  }

  async getSession(id: string): Promise<SessionRow | undefined> {
    return (await this.db.query('SELECT * FROM sessions WHERE id = $1', [id])).rows.map(rowToSession)[0];
  }

  async listSessions(q: SessionQuery): Promise<SessionRow[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => (params.push(v), `$${params.length}`);
    if (q.state === 'active') clauses.push('ended_at IS NULL');
    if (q.state === 'ended') clauses.push('ended_at IS NOT NULL');
    if (q.user?.length) clauses.push(`"user" = ANY(${p(q.user)}::text[])`);
    // Sessions that overlap [from, to).
    if (q.to !== undefined) clauses.push(`started_at < ${p(q.to)}`);
    if (q.from !== undefined) clauses.push(`(ended_at IS NULL OR ended_at >= ${p(q.from)})`);
    const where = clauses.length ? 'WHERE ' + clauses.join(' AND ') : '';
    const rows = await this.db.query(`SELECT * FROM sessions ${where} ORDER BY started_at DESC, id COLLATE "C" LIMIT ${p(q.limit)}`, params);
    return rows.rows.map(rowToSession);
  }

  async listLockouts(q: LockQuery): Promise<LockRow[]> {
    // Every $n sent must appear in the SQL (PostgreSQL cannot type an unused one): `now` is bound
    // only when the state filter uses it.
    const clauses: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => (params.push(v), `$${params.length}`);
    if (q.state === 'locked') clauses.push(activeLock(p(q.now)));
    if (q.user?.length) clauses.push(`"user" = ANY(${p(q.user)}::text[])`);
    const where = clauses.length ? 'WHERE ' + clauses.join(' AND ') : '';
    return (await this.db.query(`SELECT * FROM lockouts ${where} ORDER BY locked_at DESC, id DESC LIMIT ${p(q.limit)}`, params)).rows.map(rowToLock);
  }

  async queryEvents(filter: EventFilter, page: { limit: number; cursor: string | null; order: 'asc' | 'desc' }): Promise<EventPage> {
    const c = page.cursor ? decodeCursor(page.cursor) : null;
    if (page.cursor && !c) throw new BadQuery('cursor is not valid');
    const total = await this.countEvents(filter);
    const cmp = page.order === 'desc' ? '<' : '>';
    const extra = c ? [{ sql: `("time", seq) ${cmp} (?, ?)`, params: [c.time, c.seq] as unknown[] }] : [];
    const w = filterSql(filter, dollar, extra, 'ILIKE');
    const dir = page.order === 'desc' ? 'DESC' : 'ASC';
    const rows = (await this.db.query(`${SELECT_EVENT} ${w.where} ORDER BY "time" ${dir}, seq ${dir} LIMIT $${w.params.length + 1}`, [...w.params, page.limit + 1])).rows;
    const more = rows.length > page.limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return {
      events: rows.map(rowToEvent),
      total,
      next_cursor: more && last ? encodeCursor(last.time as number, last.seq as number) : null,
    };
  }

  async *streamEvents(filter: EventFilter, order: 'asc' | 'desc'): AsyncIterable<StoredEvent> {
    // A server-side cursor on a client of its own: at most STREAM_BATCH rows in memory at a time.
    const c = await this.pool.connect();
    let ok = false;
    try {
      const w = filterSql(filter, dollar, [], 'ILIKE');
      const dir = order === 'desc' ? 'DESC' : 'ASC';
      await c.query('BEGIN READ ONLY');
      await c.query(`DECLARE export_cursor NO SCROLL CURSOR FOR ${SELECT_EVENT} ${w.where} ORDER BY "time" ${dir}, seq ${dir}`, w.params.map(pgParam));
      for (;;) {
        const batch = await c.query(`FETCH ${STREAM_BATCH} FROM export_cursor`);
        for (const row of batch.rows) yield rowToEvent(row as Row);
        if (batch.rows.length < STREAM_BATCH) break;
      }
      ok = true;
    } finally {
      // Stopping early (or an error) ends the transaction, which closes the cursor.
      const end = await c.query(ok ? 'COMMIT' : 'ROLLBACK').then(
        () => undefined,
        (e: Error) => e,
      );
      c.release(end);
    }
  }

  /** Exact count of matching events: whole hours/minutes from the rollups when the filter allows. */
  private async countEvents(filter: EventFilter): Promise<number> {
    const fromEvents = async (f: EventFilter) => {
      const w = filterSql(f, dollar, [], 'ILIKE');
      return (await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM events ${w.where}`, w.params)).rows[0].n;
    };
    if (filter.user?.length || filter.ip?.length || filter.q) return fromEvents(filter);
    const fromRollup = async (level: number, from: number, to: number) => {
      const r = rollupWhere(filter, from, to);
      return (await this.db.query<{ n: number }>(`SELECT coalesce(sum(count), 0) AS n FROM ${ROLLUPS[level].table} ${r.where}`, r.params)).rows[0].n;
    };
    const piece = async (from: number, to: number, level: number): Promise<number> => {
      if (from >= to) return 0;
      if (level >= ROLLUPS.length) return fromEvents({ ...filter, from, to });
      const ms = ROLLUPS[level].ms;
      const fromA = Math.ceil(from / ms) * ms;
      const toA = Math.floor(to / ms) * ms;
      if (fromA >= toA) return piece(from, to, level + 1);
      return (await fromRollup(level, fromA, toA)) + (await piece(from, fromA, level + 1)) + (await piece(toA, to, level + 1));
    };
    return piece(filter.from ?? -Number.MAX_SAFE_INTEGER, filter.to ?? Number.MAX_SAFE_INTEGER, 0);
  }

  async timeseries(filter: EventFilter, intervalMs: number, group: GroupField | null) {
    const sums = new BucketSums();
    const key = group ? `"${group}"` : 'NULL::text';
    const fromEvents = async (f: EventFilter) => {
      const w = filterSql(f, (n) => `$${n + 1}`, [], 'ILIKE');
      return (
        await this.db.query<Bucket>(`SELECT ("time" / $1::bigint) * $1::bigint AS bucket, ${key} AS key, count(*) AS count FROM events ${w.where} GROUP BY 1, 2`, [
          intervalMs,
          ...w.params,
        ])
      ).rows;
    };
    const rollupsOk = !filter.user?.length && !filter.ip?.length && !filter.q && filter.from !== undefined && filter.to !== undefined;
    const fromRollup = async (level: number, from: number, to: number) => {
      const r = rollupWhere(filter, from, to, 1);
      return (
        await this.db.query<Bucket>(
          `SELECT (bucket / $1::bigint) * $1::bigint AS bucket, ${key} AS key, sum(count) AS count FROM ${ROLLUPS[level].table} ${r.where} GROUP BY 1, 2`,
          [intervalMs, ...r.params],
        )
      ).rows;
    };
    const piece = async (from: number, to: number, level: number): Promise<void> => {
      if (from >= to) return;
      if (level >= ROLLUPS.length || !rollupsOk) {
        sums.add(await fromEvents({ ...filter, from, to }));
        return;
      }
      const ms = ROLLUPS[level].ms;
      const fromA = Math.ceil(from / ms) * ms;
      const toA = Math.floor(to / ms) * ms;
      if (intervalMs % ms !== 0 || fromA >= toA) return piece(from, to, level + 1);
      sums.add(await fromRollup(level, fromA, toA));
      await piece(from, fromA, level + 1);
      await piece(toA, to, level + 1);
    };
    if (rollupsOk) await piece(filter.from!, filter.to!, 0);
    else sums.add(await fromEvents(filter));
    return sums.sorted();
  }

  async eventStats(filter: EventFilter) {
    const w = filterSql(filter, dollar, [], 'ILIKE');
    return (
      await this.db.query<{ logins: number; failures: number; unique_users: number }>(
        `SELECT count(*) FILTER (WHERE type = 'login' AND outcome = 'success') AS logins,
                count(*) FILTER (WHERE type = 'login' AND outcome = 'failure') AS failures,
                count(DISTINCT "user") AS unique_users FROM events ${w.where}`,
        w.params,
      )
    ).rows[0];
  }

  async distinctValues(field: ValueField, filter: EventFilter, limit: number): Promise<string[]> {
    const { q, ...rest } = filter;
    const extra = [{ sql: `"${field}" IS NOT NULL`, params: [] as unknown[] }];
    if (q) extra.push({ sql: `"${field}" ILIKE ? ESCAPE '\\'`, params: [`%${escapeLike(q)}%`] });
    const w = filterSql(rest, dollar, extra, 'ILIKE');
    // Byte order (COLLATE "C"), as SQLite sorts.
    const rows = await this.db.query<{ v: string }>(
      `SELECT DISTINCT "${field}" COLLATE "C" AS v FROM events ${w.where} ORDER BY 1 LIMIT $${w.params.length + 1}`,
      [...w.params, limit],
    );
    return rows.rows.map((r) => r.v);
  }

  async countActiveSessions(user?: string[]): Promise<number> {
    const r = user?.length
      ? await this.db.query<{ n: number }>('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL AND "user" = ANY($1::text[])', [user])
      : await this.db.query<{ n: number }>('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL');
    return r.rows[0].n;
  }

  async countLockedAccounts(now: number, user?: string[]): Promise<number> {
    const base = `SELECT count(DISTINCT "user") AS n FROM lockouts WHERE ${activeLock('$1')} AND scope IN ('user', 'user_ip')`;
    const r = user?.length
      ? await this.db.query<{ n: number }>(`${base} AND "user" = ANY($2::text[])`, [now, user])
      : await this.db.query<{ n: number }>(base, [now]);
    return r.rows[0].n;
  }

  async purgeEventsBefore(before: number): Promise<number> {
    return this.transaction(planLocks(undefined), async (client) => {
      const c = cleaned(client);
      let deleted = 0;
      // Whole days go by dropping their partition; a partition an export still reads is emptied
      // row by row instead, rather than stalling every query behind the DROP's lock.
      for (const p of await this.partitions()) {
        if (p.to > before) break;
        const n = (await c.query<{ n: number }>(`SELECT count(*) AS n FROM ${p.name}`)).rows[0].n;
        await c.query('SAVEPOINT drop_partition');
        try {
          await c.query("SET LOCAL lock_timeout = '2s'");
          await c.query(`DROP TABLE ${p.name}`);
          await c.query('RELEASE SAVEPOINT drop_partition');
          deleted += n;
        } catch {
          await c.query('ROLLBACK TO SAVEPOINT drop_partition');
          await c.query('RELEASE SAVEPOINT drop_partition');
        }
      }
      await c.query("SET LOCAL lock_timeout = '0'");
      deleted += (await c.query('DELETE FROM events WHERE "time" < $1', [before])).rowCount ?? 0;
      await c.query('DELETE FROM event_ids WHERE "time" < $1', [before]);
      // Whole buckets before the cut go; the bucket the cut falls in is recounted.
      for (const r of ROLLUPS) {
        const b = Math.floor(before / r.ms) * r.ms;
        await c.query(`DELETE FROM ${r.table} WHERE bucket <= $1`, [b]);
        await c.query(
          `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, shard, count)
           SELECT $1::bigint, type, coalesce(outcome, ''), coalesce(reason, ''), coalesce(service, ''), coalesce(country, ''), 0, count(*)
           FROM events WHERE "time" >= $1 AND "time" < $2 GROUP BY 2, 3, 4, 5, 6`,
          [b, b + r.ms],
        );
      }
      return deleted;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintenance) clearInterval(this.maintenance);
    this.notifications?.close();
    this.notifications = null;
    this.lockListeners.clear();
    if (this.active > 0) await new Promise<void>((r) => this.drained.push(r));
    await Promise.all([this.pool.end(), this.writer.end()]);
  }
}

/** The LISTEN connection: reconnects with backoff and reports the gap after a reconnect. */
class Notifications {
  readonly ready: Promise<void>;
  /** LISTENing now: what is announced reaches this process. */
  connected = false;
  private client: pg.Client | null = null;
  private closed = false;
  private connectedOnce = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | null = null;
  private resolveReady!: () => void;

  constructor(
    private readonly url: string,
    private readonly on: { lock(c: LockChange): void; policy(): void; gap(): void },
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    this.client = client;
    let failed = false;
    const lost = () => {
      if (failed) return;
      failed = true;
      this.connected = false;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.timer.unref();
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel === POLICY_CHANNEL) return this.on.policy();
      if (msg.channel !== LOCK_CHANNEL || !msg.payload) return;
      let change: LockChange;
      try {
        change = JSON.parse(msg.payload) as LockChange;
      } catch {
        change = { op: 'resync' };
      }
      if (change.op === 'resync') this.on.gap();
      this.on.lock(change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${LOCK_CHANNEL}; LISTEN ${POLICY_CHANNEL}`);
    } catch {
      lost();
      return;
    }
    if (this.closed) {
      void client.end().catch(() => undefined);
      return;
    }
    this.retryMs = 100;
    this.connected = true;
    if (this.connectedOnce) {
      this.on.gap();
      this.on.lock({ op: 'resync' });
    }
    this.connectedOnce = true;
    this.resolveReady();
  }

  close(): void {
    this.closed = true;
    this.connected = false;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('end');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      void c.end().catch(() => undefined);
    }
  }
}

/** A lock in force: its row without the unlock columns (null while it is in force). */
type MirroredLock = Omit<LockRow, 'unlocked_at' | 'unlocked_by'>;

/**
 * Every lock in force, in memory: loaded once the notifications flow, then kept current by them.
 * Answers only while that holds (null otherwise: read the database).
 */
class LockMirror {
  private readonly byId = new Map<number, MirroredLock>();
  private readonly index = new Map<string, Set<number>>();
  private loaded = false;
  /** The load read the locks in force at this time; earlier `now`s are not answered from memory. */
  private loadedAt = Infinity;
  /** Changes announced while a load was running, applied over its result. */
  private buffered: LockChange[] | null = null;
  private loading: Promise<void> | null = null;
  /** Locks that ran out are dropped on lookup and, for keys nobody asks about, by a sweep. */
  private sweptAt = Date.now();

  constructor(
    private readonly notifications: Notifications,
    private readonly load: (now: number) => Promise<MirroredLock[]>,
  ) {
    void notifications.ready.then(() => this.reload());
  }

  reload(): void {
    this.loaded = false;
    if (this.loading) {
      // A load is running: it may have read before the gap; load again after it.
      void this.loading.then(() => this.reload());
      return;
    }
    this.buffered = [];
    const at = Date.now();
    this.loading = this.load(at)
      .then((rows) => {
        this.loadedAt = at;
        this.byId.clear();
        this.index.clear();
        for (const r of rows) this.add(r);
        for (const c of this.buffered ?? []) this.applyNow(c);
        this.loaded = true;
      })
      .catch(() => {
        // The next gap or the next reconnect loads again; until then the database answers.
        this.loaded = false;
      })
      .finally(() => {
        this.buffered = null;
        this.loading = null;
      });
  }

  apply(c: LockChange): void {
    if (this.buffered) this.buffered.push(c);
    else this.applyNow(c);
  }

  private applyNow(c: LockChange): void {
    if (c.op === 'lock') this.add(c.lock);
    else if (c.op === 'unlock') for (const id of c.ids) this.remove(id);
  }

  private keyOf(l: MirroredLock): string | null {
    if (l.scope === 'user') return l.user === null ? null : `u\u0000${l.user}`;
    if (l.scope === 'ip') return l.ip === null ? null : `i\u0000${l.ip}`;
    return l.user === null || l.ip === null ? null : `ui\u0000${l.user}\u0000${l.ip}`;
  }

  private add(l: MirroredLock): void {
    const k = this.keyOf(l);
    if (k === null) return;
    this.sweep(Date.now());
    this.byId.set(l.id, { id: l.id, scope: l.scope, user: l.user, ip: l.ip, failures: l.failures, locked_at: l.locked_at, locked_until: l.locked_until, reason: l.reason });
    let set = this.index.get(k);
    if (!set) this.index.set(k, (set = new Set()));
    set.add(l.id);
  }

  private remove(id: number): void {
    const l = this.byId.get(id);
    if (!l) return;
    this.byId.delete(id);
    const k = this.keyOf(l)!;
    const set = this.index.get(k);
    set?.delete(id);
    if (set && set.size === 0) this.index.delete(k);
  }

  /** At most once a minute: forget locks whose time ran out (an attack's many address locks). */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [id, l] of this.byId) if (l.locked_until !== null && l.locked_until <= now) this.remove(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The locks in force for user/ip (as full rows, as the database would give them), or null. */
  locksFor(user: string | null, ip: string | null, now: number): LockRow[] | null {
    if (!this.loaded || !this.notifications.connected || now < this.loadedAt) return null;
    this.sweep(Date.now());
    const keys: string[] = [];
    if (user !== null) keys.push(`u\u0000${user}`);
    if (user !== null && ip !== null) keys.push(`ui\u0000${user}\u0000${ip}`);
    if (ip !== null) keys.push(`i\u0000${ip}`);
    const out: LockRow[] = [];
    for (const k of keys) {
      for (const id of this.index.get(k) ?? []) {
        const l = this.byId.get(id)!;
        if (l.locked_until !== null && l.locked_until <= now) continue;
        out.push({ ...l, unlocked_at: null, unlocked_by: null });
      }
    }
    return out.sort((a, b) => a.locked_at - b.locked_at || a.id - b.id);
  }
}

function rollupWhere(filter: EventFilter, from: number, to: number, offset = 0): { where: string; params: unknown[] } {
  const params: unknown[] = [from, to];
  const clauses = [`bucket >= $${offset + 1}`, `bucket < $${offset + 2}`];
  for (const col of ROLLUP_DIMS) {
    const vals = filter[col];
    if (!vals?.length) continue;
    params.push(vals);
    clauses.push(`${col} = ANY($${offset + params.length}::text[])`);
  }
  return { where: 'WHERE ' + clauses.join(' AND '), params };
}

async function readPolicy(db: Queryable): Promise<Policy> {
  const r = await db.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', ['policy']);
  // Merge over the defaults so fields added in later versions get their default.
  return r.rows.length ? { ...DEFAULT_POLICY, ...(JSON.parse(r.rows[0].value) as Partial<Policy>) } : { ...DEFAULT_POLICY };
}

/** The URL without its password, for banners and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export function openPostgresStore(url: string): Promise<PostgresStore> {
  return PostgresStore.open(url);
}
