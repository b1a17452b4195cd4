// The SQLite read side, synchronous: the query API on a read-only connection. SqliteStore runs it
// in-process; the worker store runs it in reader threads. Counts, time series and stats come from
// the rollups for every range (whole hours, then whole minutes, raw events only for the ragged
// ends); free text from the search-term index (sqlite-terms.ts).
import Database from 'better-sqlite3';
import type { StoredEvent } from '../schema/stored-event';
import { BucketSums, type Bucket } from './bucket-sums';
import { decodeCursor, encodeCursor, escapeLike, filterSql, TEXT_COLUMNS, type SearchFilter, type SqlWhere } from './filter-sql';
import { EVENT_COLUMNS, eventMapper, rowToLock, rowToSession } from './rows';
import { rollupPlan } from './sqlite-rollups';
import type { Attributes, Row } from './rows';
import { termClause } from './sqlite-terms';
import { ACTIVE_LOCK, readPolicy, type Db } from './sqlite-write';
import { BadQuery } from './store';
import type { EventFilter, EventPage, GroupField, LockQuery, LockRow, Policy, SessionQuery, SessionRow, ValueField } from './store';

const SELECT_EVENT = `SELECT seq, ${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM events`;
const HOUR = 3_600_000;
/** More output buckets than this and the per-bucket split costs more than it saves. */
const MAX_SPLIT_BUCKETS = 100_000;

// attributes are stored as JSON text.
export const rowToEvent = eventMapper((v) => (v ? (JSON.parse(v as string) as Attributes) : null));

export function openReadConnection(file: string): Db {
  const r = new Database(file, { readonly: true, fileMustExist: true });
  r.pragma('busy_timeout = 5000');
  // Large range queries revisit index pages: 32 MB per reader instead of SQLite's 2 MB.
  r.pragma('cache_size = -32768');
  return r;
}

type Range = [number, number];

/** Sorted, with touching or overlapping ranges joined. */
function merged(ranges: Range[]): Range[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * Splits segments (each inside one output bucket) into what each rollup level (bucket sizes
 * `levels`, coarsest first) covers whole and the raw ranges left at the edges: a rollup row is
 * used only when its whole period lies in one segment, so it adds to exactly one output bucket.
 */
function decompose(segments: Range[], levels: readonly number[]): { levels: Range[][]; raw: Range[] } {
  const out: Range[][] = levels.map(() => []);
  const raw: Range[] = [];
  const split = (s: number, e: number, level: number): void => {
    if (s >= e) return;
    if (level >= levels.length) {
      raw.push([s, e]);
      return;
    }
    const ms = levels[level];
    const a = Math.ceil(s / ms) * ms;
    const b = Math.floor(e / ms) * ms;
    if (a >= b) return split(s, e, level + 1);
    out[level].push([a, b]);
    split(s, a, level + 1);
    split(b, e, level + 1);
  };
  for (const [s, e] of segments) split(s, e, 0);
  return { levels: out.map(merged), raw: merged(raw) };
}

/** Filters the rollups can answer: only their own dimensions and the time range. */
function rollupsAnswer(filter: SearchFilter): boolean {
  return !filter.user?.length && !filter.ip?.length && !filter.q;
}

/** Ranges as one bound parameter: a CTE of (a, b) rows the join walks, one index range each. */
const RANGES = 'WITH r(a, b) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?))';

export class SqliteReader {
  readonly db: Db;

  constructor(readonly file: string) {
    this.db = openReadConnection(file);
  }

  /** The WHERE clause for events: free text through the term index when it can answer. */
  eventWhere(filter: SearchFilter, extra: { sql: string; params: unknown[] }[] = []): SqlWhere {
    return eventWhereOn(this.db, filter, extra);
  }

  getPolicy(): Policy {
    return readPolicy(this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('policy') as string | undefined);
  }

  activeLocks(user: string | null, ip: string | null, now: number): LockRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM lockouts WHERE ${ACTIVE_LOCK} AND (
             (scope = 'user' AND user = @user) OR (scope = 'user_ip' AND user = @user AND ip = @ip) OR (scope = 'ip' AND ip = @ip))
           ORDER BY locked_at`,
        )
        .all({ user, ip, now }) as Row[]
    ).map(rowToLock);
  }

  getSession(id: string): SessionRow | undefined {
    const r = this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToSession(r) : undefined;
  }

  listSessions(q: SessionQuery): SessionRow[] {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (q.state === 'active') clauses.push('ended_at IS NULL');
    if (q.state === 'ended') clauses.push('ended_at IS NOT NULL');
    if (q.user?.length) {
      clauses.push(`user IN (${q.user.map(() => '?').join(', ')})`);
      params.push(...q.user);
    }
    // Sessions that overlap [from, to).
    if (q.to !== undefined) {
      clauses.push('started_at < ?');
      params.push(q.to);
    }
    if (q.from !== undefined) {
      clauses.push('(ended_at IS NULL OR ended_at >= ?)');
      params.push(q.from);
    }
    const where = clauses.length ? 'WHERE ' + clauses.join(' AND ') : '';
    const rows = this.db.prepare(`SELECT * FROM sessions ${where} ORDER BY started_at DESC, id LIMIT ?`).all(...params, q.limit) as Row[];
    return rows.map(rowToSession);
  }

  listLockouts(q: LockQuery): LockRow[] {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { now: q.now, limit: q.limit };
    if (q.state === 'locked') clauses.push(ACTIVE_LOCK);
    if (q.user?.length) {
      clauses.push(`user IN (${q.user.map((_, i) => `@u${i}`).join(', ')})`);
      q.user.forEach((u, i) => (params[`u${i}`] = u));
    }
    const where = clauses.length ? 'WHERE ' + clauses.join(' AND ') : '';
    return (this.db.prepare(`SELECT * FROM lockouts ${where} ORDER BY locked_at DESC, id DESC LIMIT @limit`).all(params) as Row[]).map(rowToLock);
  }

  queryEvents(filter: SearchFilter, page: { limit: number; cursor: string | null; order: 'asc' | 'desc' }): EventPage {
    const c = page.cursor ? decodeCursor(page.cursor) : null;
    if (page.cursor && !c) throw new BadQuery('cursor is not valid');
    const total = this.countEvents(filter);
    const cmp = page.order === 'desc' ? '<' : '>';
    const extra = c ? [{ sql: `(time ${cmp} ? OR (time = ? AND seq ${cmp} ?))`, params: [c.time, c.time, c.seq] }] : [];
    const w = this.eventWhere(filter, extra);
    const dir = page.order === 'desc' ? 'DESC' : 'ASC';
    const rows = this.db.prepare(`${SELECT_EVENT} ${w.where} ORDER BY time ${dir}, seq ${dir} LIMIT ?`).all(...w.params, page.limit + 1) as Row[];
    const more = rows.length > page.limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return {
      events: rows.map(rowToEvent),
      total,
      next_cursor: more && last ? encodeCursor(last.time as number, last.seq as number) : null,
    };
  }

  /** Exact count of matching events: whole hours and minutes from the rollups when the filter allows. */
  countEvents(filter: SearchFilter): number {
    if (!rollupsAnswer(filter)) {
      const w = this.eventWhere(filter);
      return this.db.prepare(`SELECT count(*) FROM events ${w.where}`).pluck().get(...w.params) as number;
    }
    // Open ends: everything stored lies within [-2^53, 2^53).
    const plan = rollupPlan(filter, null);
    const p = decompose([[filter.from ?? -Number.MAX_SAFE_INTEGER, filter.to ?? Number.MAX_SAFE_INTEGER]], plan.map((l) => l.ms));
    let n = 0;
    p.levels.forEach((ranges, l) => {
      if (!ranges.length) return;
      const src = plan[l];
      n += this.db
        .prepare(`${RANGES} SELECT coalesce(sum(c.count), 0) FROM r CROSS JOIN ${src.from} WHERE c.bucket >= r.a AND c.bucket < r.b${src.where}`)
        .pluck()
        .get(JSON.stringify(ranges), ...src.params) as number;
    });
    if (p.raw.length) {
      const w = this.rawWhere(filter);
      n += this.db
        .prepare(`${RANGES} SELECT count(*) FROM r CROSS JOIN events e WHERE e.time >= r.a AND e.time < r.b${w.where}`)
        .pluck()
        .get(JSON.stringify(p.raw), ...w.params) as number;
    }
    return n;
  }

  /** The filter's conditions other than the time range, as " AND …" (for the range joins). */
  private rawWhere(filter: SearchFilter): SqlWhere {
    const w = this.eventWhere({ ...filter, from: undefined, to: undefined });
    return { where: w.where ? ` AND ${w.where.slice('WHERE '.length)}` : '', params: w.params };
  }

  timeseries(filter: SearchFilter, intervalMs: number, group: GroupField | null): Bucket[] {
    const sums = new BucketSums();
    const key = group ? `"${group}"` : 'NULL';
    const fromEvents = () => {
      const w = this.eventWhere(filter);
      // better-sqlite3 binds JS numbers as REAL: CAST keeps the division an integer division.
      return this.db
        .prepare(`SELECT (time / CAST(? AS INTEGER)) * ? AS bucket, ${key} AS key, count(*) AS count FROM events ${w.where} GROUP BY bucket, key`)
        .all(intervalMs, intervalMs, ...w.params) as Bucket[];
    };
    const { from, to } = filter;
    const buckets = from !== undefined && to !== undefined ? Math.ceil((to - Math.floor(from / intervalMs) * intervalMs) / intervalMs) : Infinity;
    if (!rollupsAnswer(filter) || from === undefined || to === undefined || buckets > MAX_SPLIT_BUCKETS) {
      sums.add(fromEvents());
      return sums.sorted();
    }
    if (from >= to) return [];
    // One segment per output bucket, so each rollup row used adds to exactly one bucket.
    const segments: Range[] = [];
    for (let b = Math.floor(from / intervalMs) * intervalMs; b < to; b += intervalMs) segments.push([Math.max(from, b), Math.min(to, b + intervalMs)]);
    const plan = rollupPlan(filter, group);
    const p = decompose(segments, plan.map((l) => l.ms));
    p.levels.forEach((ranges, l) => {
      if (!ranges.length) return;
      const src = plan[l];
      sums.add(
        this.db
          .prepare(
            `${RANGES} SELECT (c.bucket / CAST(? AS INTEGER)) * ? AS bucket, ${src.key} AS key, sum(c.count) AS count
             FROM r CROSS JOIN ${src.from} WHERE c.bucket >= r.a AND c.bucket < r.b${src.where} GROUP BY 1, 2`,
          )
          .all(JSON.stringify(ranges), intervalMs, intervalMs, ...src.params) as Bucket[],
      );
    });
    if (p.raw.length) {
      const w = this.rawWhere(filter);
      const ekey = group ? `e."${group}"` : 'NULL';
      sums.add(
        this.db
          .prepare(
            `${RANGES} SELECT (e.time / CAST(? AS INTEGER)) * ? AS bucket, ${ekey} AS key, count(*) AS count
             FROM r CROSS JOIN events e WHERE e.time >= r.a AND e.time < r.b${w.where} GROUP BY 1, 2`,
          )
          .all(JSON.stringify(p.raw), intervalMs, intervalMs, ...w.params) as Bucket[],
      );
    }
    return sums.sorted();
  }

  eventStats(filter: SearchFilter): { logins: number; failures: number; unique_users: number } {
    let logins = 0;
    let failures = 0;
    if (rollupsAnswer(filter)) {
      const plan = rollupPlan(filter, null);
      const p = decompose([[filter.from ?? -Number.MAX_SAFE_INTEGER, filter.to ?? Number.MAX_SAFE_INTEGER]], plan.map((l) => l.ms));
      const add = (r: { logins: number; failures: number }) => {
        logins += r.logins;
        failures += r.failures;
      };
      p.levels.forEach((ranges, l) => {
        if (!ranges.length) return;
        const src = plan[l];
        add(
          this.db
            .prepare(
              `${RANGES} SELECT coalesce(sum(CASE WHEN c.type = 'login' AND c.outcome = 'success' THEN c.count END), 0) AS logins,
                                coalesce(sum(CASE WHEN c.type = 'login' AND c.outcome = 'failure' THEN c.count END), 0) AS failures
               FROM r CROSS JOIN ${src.from} WHERE c.bucket >= r.a AND c.bucket < r.b${src.where}`,
            )
            .get(JSON.stringify(ranges), ...src.params) as { logins: number; failures: number },
        );
      });
      if (p.raw.length) {
        const w = this.rawWhere(filter);
        add(
          this.db
            .prepare(
              `${RANGES} SELECT coalesce(sum(e.type = 'login' AND e.outcome = 'success'), 0) AS logins,
                                coalesce(sum(e.type = 'login' AND e.outcome = 'failure'), 0) AS failures
               FROM r CROSS JOIN events e WHERE e.time >= r.a AND e.time < r.b${w.where}`,
            )
            .get(JSON.stringify(p.raw), ...w.params) as { logins: number; failures: number },
        );
      }
    } else {
      const w = this.eventWhere(filter);
      const r = this.db
        .prepare(
          `SELECT coalesce(sum(type = 'login' AND outcome = 'success'), 0) AS logins,
                  coalesce(sum(type = 'login' AND outcome = 'failure'), 0) AS failures FROM events ${w.where}`,
        )
        .get(...w.params) as { logins: number; failures: number };
      logins = r.logins;
      failures = r.failures;
    }
    return { logins, failures, unique_users: this.uniqueUsers(filter) };
  }

  /**
   * Users with an event in the filter. A range that runs past the latest event and no other
   * condition: the users whose latest event is at or after `from` (user_last_seen, by hour; the
   * partial first hour from the events). Anything else counts distinct users of the events.
   */
  private uniqueUsers(filter: SearchFilter): number {
    const onlyTime = (Object.keys(filter) as (keyof SearchFilter)[]).every(
      (k) => k === 'from' || k === 'to' || k === 'qExclude' || filter[k] === undefined || (Array.isArray(filter[k]) && !(filter[k] as unknown[]).length),
    );
    if (onlyTime && !filter.q) {
      const latest = this.db.prepare('SELECT max(time) FROM events').pluck().get() as number | null;
      if (latest === null) return 0;
      if (filter.to === undefined || filter.to > latest) {
        if (filter.from === undefined) return this.db.prepare('SELECT count(*) FROM user_last_seen').pluck().get() as number;
        const from = filter.from;
        const full = Math.ceil(from / HOUR) * HOUR;
        let n = this.db.prepare('SELECT count(*) FROM user_last_seen WHERE hour >= ?').pluck().get(full) as number;
        if (full > from) {
          // Users last seen in the partial first hour count if they have an event in [from, full):
          // few users have their latest event exactly then, so start from them.
          n += this.db
            .prepare(
              `SELECT count(*) FROM user_last_seen u
               WHERE u.hour = ? AND EXISTS (SELECT 1 FROM events e WHERE e.user = u.user AND e.time >= ? AND e.time < ?)`,
            )
            .pluck()
            .get(full - HOUR, from, full) as number;
        }
        return n;
      }
    }
    const w = this.eventWhere(filter);
    return this.db.prepare(`SELECT count(DISTINCT user) FROM events ${w.where}`).pluck().get(...w.params) as number;
  }

  distinctValues(field: ValueField, filter: SearchFilter, limit: number): string[] {
    const { q, ...rest } = filter;
    const extra = [{ sql: `"${field}" IS NOT NULL`, params: [] as unknown[] }];
    if (q) extra.push({ sql: `"${field}" LIKE ? ESCAPE '\\'`, params: [`%${escapeLike(q)}%`] });
    const w = filterSql(rest, undefined, extra);
    return this.db.prepare(`SELECT DISTINCT "${field}" FROM events ${w.where} ORDER BY 1 LIMIT ?`).pluck().all(...w.params, limit) as string[];
  }

  countActiveSessions(user?: string[]): number {
    if (!user?.length) return this.db.prepare('SELECT count(*) FROM sessions WHERE ended_at IS NULL').pluck().get() as number;
    return this.db
      .prepare(`SELECT count(*) FROM sessions WHERE ended_at IS NULL AND user IN (${user.map(() => '?').join(', ')})`)
      .pluck()
      .get(...user) as number;
  }

  countLockedAccounts(now: number, user?: string[]): number {
    const params: Record<string, unknown> = { now };
    user?.forEach((u, i) => (params[`u${i}`] = u));
    const users = user?.length ? ` AND user IN (${user.map((_, i) => `@u${i}`).join(', ')})` : '';
    return this.db
      .prepare(`SELECT count(DISTINCT user) FROM lockouts WHERE ${ACTIVE_LOCK} AND scope IN ('user', 'user_ip')${users}`)
      .pluck()
      .get(params) as number;
  }

  close(): void {
    this.db.close();
  }
}

function eventWhereOn(db: Db, filter: SearchFilter, extra: { sql: string; params: unknown[] }[]): SqlWhere {
  if (filter.q) {
    const columns = filter.qExclude ? TEXT_COLUMNS.filter((c) => !filter.qExclude!.includes(c)) : TEXT_COLUMNS;
    const clause = termClause(db, filter.q, columns, `%${escapeLike(filter.q)}%`);
    if (clause) return filterSql({ ...filter, q: undefined }, undefined, [...extra, clause]);
  }
  return filterSql(filter, undefined, extra);
}

/**
 * Every matching event in order, read in chunks from a private connection: an open iterator keeps
 * a better-sqlite3 connection busy, and its read transaction is one snapshot for the whole export.
 */
export class EventStream {
  private readonly conn: Db;
  private readonly it: IterableIterator<Row>;
  private done = false;

  constructor(file: string, filter: SearchFilter, order: 'asc' | 'desc') {
    this.conn = openReadConnection(file);
    try {
      const w = eventWhereOn(this.conn, filter, []);
      const dir = order === 'desc' ? 'DESC' : 'ASC';
      this.it = this.conn.prepare(`${SELECT_EVENT} ${w.where} ORDER BY time ${dir}, seq ${dir}`).iterate(...w.params) as IterableIterator<Row>;
    } catch (e) {
      this.conn.close();
      throw e;
    }
  }

  /** Up to n more events; fewer than n means the end (the stream has closed itself). */
  next(n: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    while (!this.done && out.length < n) {
      const r = this.it.next();
      if (r.done) this.close();
      else out.push(rowToEvent(r.value));
    }
    return out;
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.it.return?.();
    this.conn.close();
  }
}
