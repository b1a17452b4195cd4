// PostgreSQL store: the same contract as the SQLite store, for several collector replicas on one
// database. Every write transaction first takes one transaction-level advisory lock, so writers are
// serialised across all replicas (lockout counting stays exact) and the lock is released by COMMIT
// or ROLLBACK whatever happens to the process. Within a process a mutex queues writers onto one
// connection of their own (so long exports or many readers never hold ingest up); the pipeline's
// group commit batches ingest. Reads use a pool; CSV export streams through a server-side cursor.
import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import type { StoredEvent } from '../schema/stored-event';
import { DEFAULT_POLICY } from '../schema/policy';
import { postgresMigrations } from './migrations/postgres';
import { migratePostgres } from './postgres-migrate';
import { pgJson, pgParam } from './postgres-text';
import { Mutex } from './mutex';
import { decodeCursor, encodeCursor, escapeLike, filterSql } from './filter-sql';
import { BadQuery } from './store';
import { BucketSums, type Bucket } from './bucket-sums';
import { EVENT_COLUMNS, ROLLUPS, eventMapper, rollupCounts, rowToLock, rowToReservation, rowToSession } from './rows';
import type { Attributes, EventColumn, Row } from './rows';
import type {
  CoreStore,
  CoreWriteTx,
  EventFilter,
  EventPage,
  GroupField,
  LockQuery,
  LockRow,
  LockScope,
  NewLock,
  Policy,
  SessionQuery,
  SessionRow,
  ValueField,
} from './store';

/** Advisory lock key every write transaction takes ("awwr"). */
export const WRITE_LOCK_KEY = 0x61777772;
/** Rows per FETCH when streaming an export. */
const STREAM_BATCH = 500;

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

const EVENT_COLUMN_TYPES: Record<EventColumn, string> = {
  id: 'text', time: 'bigint', received_at: 'bigint', type: 'text', outcome: 'text', reason: 'text', user: 'text', user_id: 'text',
  email: 'text', session_id: 'text', ip: 'text', user_agent: 'text', device: 'text', app_version: 'text', service: 'text', entry: 'text',
  attributes: 'jsonb', actor: 'text', country: 'text', city: 'text', latitude: 'float8', longitude: 'float8', asn: 'integer', isp: 'text',
  browser: 'text', browser_version: 'text', os: 'text', os_version: 'text', device_type: 'text',
};
const COLS = EVENT_COLUMNS.map((c) => `"${c}"`).join(', ');
const SELECT_EVENT = `SELECT seq, ${COLS} FROM events`;
// One statement per batch: column arrays unnested in order, duplicates (stored or within the batch) skipped.
const INSERT_EVENTS = `INSERT INTO events (${COLS}) SELECT * FROM unnest(${EVENT_COLUMNS.map((c, i) => `$${i + 1}::${EVENT_COLUMN_TYPES[c]}[]`).join(', ')})
  ON CONFLICT (id) DO NOTHING RETURNING id`;

function eventValue(e: StoredEvent, c: EventColumn): unknown {
  if (c === 'attributes') return e.attributes ? pgJson(e.attributes) : null;
  return e[c] ?? null;
}

// jsonb arrives parsed.
const rowToEvent = eventMapper((v) => (v ?? null) as Attributes | null);

const ROLLUP_DIMS = ['type', 'outcome', 'reason', 'service', 'country'] as const;

/** Locks in force at $now (the placeholder is passed in). */
const activeLock = (now: string) => `unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > ${now})`;

/** Something that runs a query: the pool, or the write transaction's client. */
interface Queryable {
  query<R extends QueryResultRow = Row>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The same queries with every string parameter made storable (see postgres-text.ts). */
function cleaned(db: pg.Pool | PoolClient): Queryable {
  return { query: <R extends QueryResultRow = Row>(sql: string, params?: unknown[]) => db.query<R>(sql, params?.map(pgParam)) };
}

export class PostgresStore implements CoreStore {
  readonly description: string;
  private readonly mutex = new Mutex();
  private closed = false;
  private readonly db: Queryable;

  private constructor(
    /** Reads and exports. */
    private readonly pool: pg.Pool,
    /** Write transactions: one connection (writers are serialised anyway). */
    private readonly writer: pg.Pool,
    url: string,
  ) {
    this.description = redactUrl(url);
    this.db = cleaned(pool);
  }

  /** Connects, migrates (under an advisory lock) and returns the store. */
  static async open(url: string, options: { max?: number } = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types: typeParsers });
    const writer = new pg.Pool({ connectionString: url, max: 1, types: typeParsers });
    // An idle client losing its server must not crash the process; the next query reconnects.
    for (const p of [pool, writer]) p.on('error', () => undefined);
    try {
      await migratePostgres(writer, postgresMigrations);
    } catch (e) {
      await Promise.all([pool.end(), writer.end()]);
      throw e;
    }
    return new PostgresStore(pool, writer, url);
  }

  private makeTx(client: PoolClient): CoreWriteTx {
    let depth = 0;
    const c = cleaned(client);
    const q = async <R extends QueryResultRow = Row>(sql: string, params: unknown[] = []) => (await c.query<R>(sql, params)).rows;
    return {
      getState: async <T>(namespace: string, key: string) => {
        const r = await q<{ value: T }>('SELECT value FROM state WHERE namespace = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > $3)', [namespace, key, Date.now()]);
        return r.length ? r[0].value : undefined;
      },
      putState: async <T>(namespace: string, key: string, value: T, expiresAt: number | null) => {
        await q(
          `INSERT INTO state (namespace, key, value, expires_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
          [namespace, key, pgJson(value), expiresAt],
        );
      },
      pruneState: async (now) => {
        await q('DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= $1', [now]);
      },
      savepoint: async <T>(fn: () => Promise<T>) => {
        const name = `sp${++depth}`;
        await c.query(`SAVEPOINT ${name}`);
        try {
          const r = await fn();
          await c.query(`RELEASE SAVEPOINT ${name}`);
          return r;
        } catch (e) {
          await c.query(`ROLLBACK TO SAVEPOINT ${name}`);
          await c.query(`RELEASE SAVEPOINT ${name}`);
          throw e;
        } finally {
          depth--;
        }
      },
      insertEvents: async (events) => {
        if (!events.length) return [];
        const stored = new Set((await q<{ id: string }>(INSERT_EVENTS, EVENT_COLUMNS.map((col) => events.map((e) => eventValue(e, col))))).map((r) => r.id));
        // The first occurrence of a new id is the one inserted.
        const out = events.map((e) => stored.delete(e.id));
        const counts = rollupCounts(events, out);
        for (let l = 0; l < ROLLUPS.length; l++) {
          const rows = [...counts[l].values()];
          if (!rows.length) continue;
          await q(
            `INSERT INTO ${ROLLUPS[l].table} AS t (bucket, type, outcome, reason, service, country, count)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
             ON CONFLICT (bucket, type, outcome, reason, service, country) DO UPDATE SET count = t.count + excluded.count`,
            [0, 1, 2, 3, 4, 5, 6].map((j) => rows.map((r) => r[j])),
          );
        }
        return out;
      },
      getPolicy: async () => readPolicy(c),
      putPolicy: async (p) => {
        await q('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', ['policy', pgJson(p)]);
      },
      getSession: async (id) => (await q('SELECT * FROM sessions WHERE id = $1', [id])).map(rowToSession)[0],
      openSession: async (s) => {
        const r = await c.query(
          `INSERT INTO sessions (id, "user", user_id, ip, country, city, isp, asn, browser, os, device, device_type, service, started_at, last_seen_at, ended_at, end_reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING`,
          [s.id, s.user, s.user_id, s.ip, s.country, s.city, s.isp, s.asn, s.browser, s.os, s.device, s.device_type, s.service, s.started_at, s.last_seen_at, s.ended_at, s.end_reason],
        );
        return r.rowCount === 1;
      },
      touchSession: async (id, time, ip, service) => {
        await q(
          'UPDATE sessions SET last_seen_at = greatest(last_seen_at, $1), ip = coalesce(ip, $2), service = coalesce(service, $3) WHERE id = $4 AND ended_at IS NULL',
          [time, ip, service, id],
        );
      },
      endSession: async (id, time, reason) =>
        (await c.query('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL', [time, reason, id])).rowCount === 1,
      activeSessionsOfUser: async (user) => (await q('SELECT * FROM sessions WHERE "user" = $1 AND ended_at IS NULL', [user])).map(rowToSession),
      idleSessions: async (before, limit) =>
        (await q('SELECT * FROM sessions WHERE ended_at IS NULL AND last_seen_at < $1 ORDER BY last_seen_at LIMIT $2', [before, limit])).map(rowToSession),
      activeLocks: async (user, ip, now) => activeLocks(c, user, ip, now),
      addFailure: async (keys, time, since) => {
        if (!keys.length) return [];
        // One round trip: the CTE's insert is not visible to the counts in the same statement, so
        // the new failure is added when it falls in the window.
        const rows = await q<{ n: number }>(
          `WITH ins AS (INSERT INTO failures (key, "time") SELECT k, $2 FROM unnest($1::text[]) AS k)
           SELECT (SELECT count(*) FROM failures f WHERE f.key = k.key AND f."time" > $3) + CASE WHEN $2::bigint > $3::bigint THEN 1 ELSE 0 END AS n
           FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) ORDER BY k.ord`,
          [keys, time, since],
        );
        return rows.map((r) => r.n);
      },
      countFailures: async (keys, since) => {
        if (!keys.length) return [];
        const rows = await q<{ n: number }>(
          `SELECT (SELECT count(*) FROM failures f WHERE f.key = k.key AND f."time" > $2) AS n
           FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) ORDER BY k.ord`,
          [keys, since],
        );
        return rows.map((r) => r.n);
      },
      clearFailures: async (keys) => {
        if (keys.length) await q('DELETE FROM failures WHERE key = ANY($1::text[])', [keys]);
      },
      insertReservation: async (r) => {
        await q(
          'INSERT INTO reservations (id, "user", ip, display_user, display_ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [r.id, r.user, r.ip, r.display_user, r.display_ip, r.created_at, r.expires_at],
        );
      },
      countReservations: async (user, ip) =>
        (
          await q<{ user: number; user_ip: number; ip: number }>(
            `SELECT (SELECT count(*) FROM reservations WHERE NOT expired AND "user" = $1) AS "user",
                    (SELECT count(*) FROM reservations WHERE NOT expired AND "user" = $1 AND ip = $2) AS user_ip,
                    (SELECT count(*) FROM reservations WHERE NOT expired AND ip = $2) AS ip`,
            [user, ip],
          )
        )[0],
      takeReservation: async (id) => (await q('DELETE FROM reservations WHERE id = $1 RETURNING *', [id])).map(rowToReservation)[0],
      expireReservations: async (now) =>
        (await q('UPDATE reservations SET expired = true WHERE NOT expired AND expires_at <= $1 RETURNING *', [now])).map(rowToReservation),
      pruneReservations: async (before) => {
        await q('DELETE FROM reservations WHERE expired AND expires_at < $1', [before]);
      },
      pruneFailures: async (before) => {
        await q('DELETE FROM failures WHERE "time" < $1', [before]);
      },
      countLocks: async (scope: LockScope, user, ip) => {
        const r =
          scope === 'user'
            ? await q<{ n: number }>(`SELECT count(*) AS n FROM lockouts WHERE scope = 'user' AND "user" = $1`, [user])
            : scope === 'user_ip'
              ? await q<{ n: number }>(`SELECT count(*) AS n FROM lockouts WHERE scope = 'user_ip' AND "user" = $1 AND ip = $2`, [user, ip])
              : await q<{ n: number }>(`SELECT count(*) AS n FROM lockouts WHERE scope = 'ip' AND ip = $1`, [ip]);
        return r[0].n;
      },
      insertLock: async (l: NewLock) =>
        rowToLock(
          (
            await q(
              `INSERT INTO lockouts (scope, "user", ip, failures, locked_at, locked_until, reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
              [l.scope, l.user, l.ip, l.failures, l.locked_at, l.locked_until, l.reason],
            )
          )[0],
        ),
      unlock: async (sel, now, actor) => {
        const set = `UPDATE lockouts SET unlocked_at = $1, unlocked_by = $2 WHERE ${activeLock('$1')}`;
        let rows: Row[];
        if (sel.user !== undefined && sel.ip !== undefined) rows = await q(`${set} AND "user" = $3 AND ip = $4 RETURNING *`, [now, actor, sel.user, sel.ip]);
        else if (sel.user !== undefined) rows = await q(`${set} AND "user" = $3 RETURNING *`, [now, actor, sel.user]);
        else if (sel.ip !== undefined) rows = await q(`${set} AND ip = $3 AND scope IN ('ip', 'user_ip') RETURNING *`, [now, actor, sel.ip]);
        else rows = [];
        return rows.map(rowToLock);
      },
    };
  }

  async write<T>(fn: (tx: CoreWriteTx) => Promise<T>): Promise<T> {
    return this.transaction((_c, client) => fn(this.makeTx(client)));
  }

  /** One write transaction on a pooled client, holding the cross-replica write lock. */
  private transaction<T>(fn: (c: Queryable, client: PoolClient) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      const c = await this.writer.connect();
      let broken: Error | undefined;
      try {
        // READ COMMITTED (the default): each statement sees everything committed before it, so
        // once the lock is granted we read what the previous holder (any replica) wrote.
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY]);
        const result = await fn(cleaned(c), c);
        await c.query('COMMIT');
        return result;
      } catch (e) {
        await c.query('ROLLBACK').catch((err: Error) => (broken = err));
        throw e;
      } finally {
        // A client whose ROLLBACK failed is in an unknown state: drop it rather than reuse it.
        c.release(broken);
      }
    });
  }

  async getOrCreateMeta(key: string, make: () => string): Promise<string> {
    return this.transaction(async (c) => {
      await c.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, make()]);
      return (await c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])).rows[0].value;
    });
  }

  async getPolicy(): Promise<Policy> {
    return readPolicy(this.pool);
  }

  async activeLocks(user: string | null, ip: string | null, now: number): Promise<LockRow[]> {
    // this.db, not the raw pool: strings made storable like every other query's (U+0000 → 500).
    return activeLocks(this.db, user, ip, now);
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
    return this.transaction(async (c) => {
      const deleted = (await c.query('DELETE FROM events WHERE "time" < $1', [before])).rowCount ?? 0;
      // Whole buckets before the cut go; the bucket the cut falls in is recounted.
      for (const r of ROLLUPS) {
        const b = Math.floor(before / r.ms) * r.ms;
        await c.query(`DELETE FROM ${r.table} WHERE bucket <= $1`, [b]);
        await c.query(
          `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, count)
           SELECT $1::bigint, type, coalesce(outcome, ''), coalesce(reason, ''), coalesce(service, ''), coalesce(country, ''), count(*)
           FROM events WHERE "time" >= $1 AND "time" < $2 GROUP BY 2, 3, 4, 5, 6`,
          [b, b + r.ms],
        );
      }
      return deleted;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.mutex.run(async () => {
      this.closed = true;
    });
    await Promise.all([this.pool.end(), this.writer.end()]);
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

async function activeLocks(db: Queryable, user: string | null, ip: string | null, now: number): Promise<LockRow[]> {
  const r = await db.query(
    `SELECT * FROM lockouts WHERE ${activeLock('$3')} AND (
       (scope = 'user' AND "user" = $1) OR (scope = 'user_ip' AND "user" = $1 AND ip = $2) OR (scope = 'ip' AND ip = $2))
     ORDER BY locked_at`,
    [user, ip, now],
  );
  return r.rows.map(rowToLock);
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
