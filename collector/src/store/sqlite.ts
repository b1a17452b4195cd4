// SQLite store (default): one better-sqlite3 connection for writes, WAL journal with
// synchronous=FULL so a COMMIT is on disk before the caller answers 202, a second read-only
// connection for the query API, and a fresh read-only connection per streamed export.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { StoredEvent } from '../schema/stored-event';
import { DEFAULT_POLICY } from '../schema/policy';
import { sqliteMigrations } from './migrations/sqlite';
import { Mutex } from './mutex';
import { decodeCursor, encodeCursor, escapeLike, filterSql } from './filter-sql';
import { BadQuery } from './store';
import { BucketSums, type Bucket } from './bucket-sums';
import { EVENT_COLUMNS, ROLLUPS, eventMapper, rollupCounts, rowToLock, rowToReservation, rowToSession } from './rows';
import type { Attributes, Row } from './rows';
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

type Db = Database.Database;

const SELECT_EVENT = `SELECT seq, ${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM events`;

function eventParams(e: StoredEvent): unknown[] {
  return [
    e.id, e.time, e.received_at, e.type, e.outcome, e.reason, e.user, e.user_id, e.email, e.session_id, e.ip,
    e.user_agent, e.device, e.app_version, e.service, e.entry, e.attributes ? JSON.stringify(e.attributes) : null,
    e.actor, e.country, e.city, e.latitude, e.longitude, e.asn, e.isp, e.browser, e.browser_version, e.os,
    e.os_version, e.device_type,
  ];
}

// attributes are stored as JSON text.
export const rowToEvent = eventMapper((v) => (v ? (JSON.parse(v as string) as Attributes) : null));

/** Parses "sqlite:./data/authwatch.db" / "sqlite:/abs/path.db" / a bare path. */
export function sqlitePathFromUrl(url: string): string {
  const path = url.startsWith('sqlite://') ? url.slice('sqlite://'.length) : url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (!path) throw new Error(`AUTHWATCH_STORE: no file in "${url}"`);
  return resolve(path);
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  for (const m of sqliteMigrations) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }).immediate();
  }
}

const ACTIVE_LOCK = 'unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > @now)';

export class SqliteStore implements CoreStore {
  readonly description: string;
  private readonly db: Db;
  private readonly rdb: Db;
  private readonly mutex = new Mutex();
  private readonly tx: CoreWriteTx;
  private savepointDepth = 0;
  private closed = false;
  private readonly stmt: ReturnType<SqliteStore['prepare']>;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.description = `sqlite:${file}`;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: the WAL is fsynced at every COMMIT, so "202 after commit" survives power loss too
    // (NORMAL only survives a process crash).
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // A 64 MB page cache keeps the hot index pages in memory; checkpointing every ~40 MB of WAL
    // instead of 4 MB lets repeated index-page writes coalesce (both measured: ~2x batch ingest).
    this.db.pragma('cache_size = -65536');
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('temp_store = MEMORY');
    migrate(this.db);
    this.rdb = this.openReader();
    this.stmt = this.prepare();
    this.tx = this.makeTx();
  }

  private openReader(): Db {
    const r = new Database(this.file, { readonly: true, fileMustExist: true });
    r.pragma('busy_timeout = 5000');
    return r;
  }

  private prepare() {
    const db = this.db;
    const rdb = this.rdb;
    const activeLocksSql = `SELECT * FROM lockouts WHERE ${ACTIVE_LOCK} AND (
        (scope = 'user' AND user = @user) OR (scope = 'user_ip' AND user = @user AND ip = @ip) OR (scope = 'ip' AND ip = @ip))
      ORDER BY locked_at`;
    return {
      insertEvent: db.prepare(
        `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
      ),
      bumpCounts: ROLLUPS.map((r) =>
        db.prepare(
          `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, count) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (bucket, type, outcome, reason, service, country) DO UPDATE SET count = count + excluded.count`,
        ),
      ),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      insertMetaIfAbsent: db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'),
      getState: db.prepare('SELECT value FROM state WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)').pluck(),
      putState: db.prepare(
        'INSERT INTO state (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      ),
      pruneState: db.prepare('DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      getSession: db.prepare('SELECT * FROM sessions WHERE id = ?'),
      rGetSession: rdb.prepare('SELECT * FROM sessions WHERE id = ?'),
      openSession: db.prepare(
        `INSERT OR IGNORE INTO sessions (id, user, user_id, ip, country, city, isp, asn, browser, os, device, device_type, service, started_at, last_seen_at, ended_at, end_reason)
         VALUES (@id, @user, @user_id, @ip, @country, @city, @isp, @asn, @browser, @os, @device, @device_type, @service, @started_at, @last_seen_at, @ended_at, @end_reason)`,
      ),
      touchSession: db.prepare(
        'UPDATE sessions SET last_seen_at = max(last_seen_at, ?), ip = coalesce(ip, ?), service = coalesce(service, ?) WHERE id = ? AND ended_at IS NULL',
      ),
      endSession: db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL'),
      activeSessionsOfUser: db.prepare('SELECT * FROM sessions WHERE user = ? AND ended_at IS NULL'),
      idleSessions: db.prepare('SELECT * FROM sessions WHERE ended_at IS NULL AND last_seen_at < ? ORDER BY last_seen_at LIMIT ?'),
      activeLocks: db.prepare(activeLocksSql),
      rActiveLocks: rdb.prepare(activeLocksSql),
      addFailure: db.prepare('INSERT INTO failures (key, time) VALUES (?, ?)'),
      countFailures: db.prepare('SELECT count(*) FROM failures WHERE key = ? AND time > ?').pluck(),
      insertReservation: db.prepare(
        `INSERT INTO reservations (id, user, ip, display_user, display_ip, created_at, expires_at)
         VALUES (@id, @user, @ip, @display_user, @display_ip, @created_at, @expires_at)`,
      ),
      countReservations: db.prepare(
        `SELECT (SELECT count(*) FROM reservations WHERE expired = 0 AND user = @user) AS user,
                (SELECT count(*) FROM reservations WHERE expired = 0 AND user = @user AND ip = @ip) AS user_ip,
                (SELECT count(*) FROM reservations WHERE expired = 0 AND ip = @ip) AS ip`,
      ),
      takeReservation: db.prepare('DELETE FROM reservations WHERE id = ? RETURNING *'),
      expireReservations: db.prepare('UPDATE reservations SET expired = 1 WHERE expired = 0 AND expires_at <= ? RETURNING *'),
      pruneReservations: db.prepare('DELETE FROM reservations WHERE expired = 1 AND expires_at < ?'),
      clearFailures: db.prepare('DELETE FROM failures WHERE key = ?'),
      pruneFailures: db.prepare('DELETE FROM failures WHERE time < ?'),
      countLocksUser: db.prepare("SELECT count(*) FROM lockouts WHERE scope = 'user' AND user = ?").pluck(),
      countLocksUserIp: db.prepare("SELECT count(*) FROM lockouts WHERE scope = 'user_ip' AND user = ? AND ip = ?").pluck(),
      countLocksIp: db.prepare("SELECT count(*) FROM lockouts WHERE scope = 'ip' AND ip = ?").pluck(),
      insertLock: db.prepare(
        `INSERT INTO lockouts (scope, user, ip, failures, locked_at, locked_until, reason)
         VALUES (@scope, @user, @ip, @failures, @locked_at, @locked_until, @reason) RETURNING *`,
      ),
      unlockUser: db.prepare(`UPDATE lockouts SET unlocked_at = @now, unlocked_by = @actor WHERE ${ACTIVE_LOCK} AND user = @user RETURNING *`),
      unlockIp: db.prepare(
        `UPDATE lockouts SET unlocked_at = @now, unlocked_by = @actor WHERE ${ACTIVE_LOCK} AND ip = @ip AND scope IN ('ip', 'user_ip') RETURNING *`,
      ),
      unlockUserIp: db.prepare(
        `UPDATE lockouts SET unlocked_at = @now, unlocked_by = @actor WHERE ${ACTIVE_LOCK} AND user = @user AND ip = @ip RETURNING *`,
      ),
      countActiveSessions: rdb.prepare('SELECT count(*) FROM sessions WHERE ended_at IS NULL').pluck(),
      countLockedAccounts: rdb.prepare(`SELECT count(DISTINCT user) FROM lockouts WHERE ${ACTIVE_LOCK} AND scope IN ('user', 'user_ip')`).pluck(),
    };
  }

  private makeTx(): CoreWriteTx {
    const s = () => this.stmt;
    const db = this.db;
    const policy = (): Policy => this.readPolicy(s().getMeta.get('policy') as string | undefined);
    return {
      getState: async <T>(namespace: string, key: string) => {
        const v = s().getState.get(namespace, key, Date.now()) as string | undefined;
        return v === undefined ? undefined : (JSON.parse(v) as T);
      },
      putState: async <T>(namespace: string, key: string, value: T, expiresAt: number | null) => {
        s().putState.run(namespace, key, JSON.stringify(value), expiresAt);
      },
      pruneState: async (now) => {
        s().pruneState.run(now);
      },
      savepoint: async <T>(fn: () => Promise<T>) => {
        const name = `sp${++this.savepointDepth}`;
        db.exec(`SAVEPOINT ${name}`);
        try {
          const r = await fn();
          db.exec(`RELEASE ${name}`);
          return r;
        } catch (e) {
          db.exec(`ROLLBACK TO ${name}`);
          db.exec(`RELEASE ${name}`);
          throw e;
        } finally {
          this.savepointDepth--;
        }
      },
      insertEvents: async (events) => {
        const st = s();
        const out = events.map((e) => st.insertEvent.run(eventParams(e)).changes === 1);
        // Rollups of what was actually inserted: one upsert per distinct key and level.
        const counts = rollupCounts(events, out);
        counts.forEach((m, l) => {
          for (const c of m.values()) st.bumpCounts[l].run(c);
        });
        return out;
      },
      getPolicy: async () => policy(),
      putPolicy: async (p) => {
        s().putMeta.run('policy', JSON.stringify(p));
      },
      getSession: async (id) => {
        const r = s().getSession.get(id) as Row | undefined;
        return r ? rowToSession(r) : undefined;
      },
      openSession: async (row) => s().openSession.run(row).changes === 1,
      touchSession: async (id, time, ip, service) => {
        s().touchSession.run(time, ip, service, id);
      },
      endSession: async (id, time, reason) => s().endSession.run(time, reason, id).changes === 1,
      activeSessionsOfUser: async (user) => (s().activeSessionsOfUser.all(user) as Row[]).map(rowToSession),
      idleSessions: async (before, limit) => (s().idleSessions.all(before, limit) as Row[]).map(rowToSession),
      activeLocks: async (user, ip, now) => (s().activeLocks.all({ user, ip, now }) as Row[]).map(rowToLock),
      addFailure: async (keys, time, since) => {
        const st = s();
        return keys.map((k) => {
          st.addFailure.run(k, time);
          return st.countFailures.get(k, since) as number;
        });
      },
      countFailures: async (keys, since) => keys.map((k) => s().countFailures.get(k, since) as number),
      clearFailures: async (keys) => {
        for (const k of keys) s().clearFailures.run(k);
      },
      insertReservation: async (r) => {
        s().insertReservation.run(r);
      },
      countReservations: async (user, ip) => s().countReservations.get({ user, ip }) as { user: number; user_ip: number; ip: number },
      takeReservation: async (id) => {
        const r = s().takeReservation.get(id) as Row | undefined;
        return r ? rowToReservation(r) : undefined;
      },
      expireReservations: async (now) => (s().expireReservations.all(now) as Row[]).map(rowToReservation),
      pruneReservations: async (before) => {
        s().pruneReservations.run(before);
      },
      pruneFailures: async (before) => {
        s().pruneFailures.run(before);
      },
      countLocks: async (scope: LockScope, user, ip) => {
        const st = s();
        if (scope === 'user') return st.countLocksUser.get(user) as number;
        if (scope === 'user_ip') return st.countLocksUserIp.get(user, ip) as number;
        return st.countLocksIp.get(ip) as number;
      },
      insertLock: async (lock: NewLock) => rowToLock(s().insertLock.get(lock) as Row),
      unlock: async (sel, now, actor) => {
        const st = s();
        let rows: Row[];
        if (sel.user !== undefined && sel.ip !== undefined) rows = st.unlockUserIp.all({ now, actor, user: sel.user, ip: sel.ip }) as Row[];
        else if (sel.user !== undefined) rows = st.unlockUser.all({ now, actor, user: sel.user }) as Row[];
        else if (sel.ip !== undefined) rows = st.unlockIp.all({ now, actor, ip: sel.ip }) as Row[];
        else rows = [];
        return rows.map(rowToLock);
      },
    };
  }

  private readPolicy(json: string | undefined): Policy {
    // Merge over the defaults so fields added in later versions get their default.
    return json ? { ...DEFAULT_POLICY, ...(JSON.parse(json) as Partial<Policy>) } : { ...DEFAULT_POLICY };
  }

  async write<T>(fn: (tx: CoreWriteTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      // IMMEDIATE takes the write lock up front, so another process on the same file cannot
      // interleave between our reads and writes (counting stays atomic).
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.tx);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async getOrCreateMeta(key: string, make: () => string): Promise<string> {
    return this.write(async () => {
      this.stmt.insertMetaIfAbsent.run(key, make());
      return this.stmt.getMeta.get(key) as string;
    });
  }

  async getPolicy(): Promise<Policy> {
    return this.readPolicy(this.rdb.prepare('SELECT value FROM meta WHERE key = ?').pluck().get('policy') as string | undefined);
  }

  async activeLocks(user: string | null, ip: string | null, now: number): Promise<LockRow[]> {
    return (this.stmt.rActiveLocks.all({ user, ip, now }) as Row[]).map(rowToLock);
  }

  async getSession(id: string): Promise<SessionRow | undefined> {
    const r = this.stmt.rGetSession.get(id) as Row | undefined;
    return r ? rowToSession(r) : undefined;
  }

  async listSessions(q: SessionQuery): Promise<SessionRow[]> {
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
    const rows = this.rdb.prepare(`SELECT * FROM sessions ${where} ORDER BY started_at DESC, id LIMIT ?`).all(...params, q.limit) as Row[];
    return rows.map(rowToSession);
  }

  async listLockouts(q: LockQuery): Promise<LockRow[]> {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { now: q.now, limit: q.limit };
    if (q.state === 'locked') clauses.push(ACTIVE_LOCK);
    if (q.user?.length) {
      clauses.push(`user IN (${q.user.map((_, i) => `@u${i}`).join(', ')})`);
      q.user.forEach((u, i) => (params[`u${i}`] = u));
    }
    const where = clauses.length ? 'WHERE ' + clauses.join(' AND ') : '';
    return (this.rdb.prepare(`SELECT * FROM lockouts ${where} ORDER BY locked_at DESC, id DESC LIMIT @limit`).all(params) as Row[]).map(rowToLock);
  }

  async queryEvents(filter: EventFilter, page: { limit: number; cursor: string | null; order: 'asc' | 'desc' }): Promise<EventPage> {
    const total = this.countEvents(filter);
    const extra: { sql: string; params: unknown[] }[] = [];
    const c = page.cursor ? decodeCursor(page.cursor) : null;
    if (page.cursor && !c) throw new BadQuery('cursor is not valid');
    const cmp = page.order === 'desc' ? '<' : '>';
    if (c) extra.push({ sql: `(time ${cmp} ? OR (time = ? AND seq ${cmp} ?))`, params: [c.time, c.time, c.seq] });
    const w = filterSql(filter, undefined, extra);
    const dir = page.order === 'desc' ? 'DESC' : 'ASC';
    const rows = this.rdb.prepare(`${SELECT_EVENT} ${w.where} ORDER BY time ${dir}, seq ${dir} LIMIT ?`).all(...w.params, page.limit + 1) as Row[];
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
    // A private connection: an open iterator makes a better-sqlite3 connection busy.
    const conn = this.openReader();
    try {
      const w = filterSql(filter);
      const dir = order === 'desc' ? 'DESC' : 'ASC';
      const it = conn.prepare(`${SELECT_EVENT} ${w.where} ORDER BY time ${dir}, seq ${dir}`).iterate(...w.params) as IterableIterator<Row>;
      try {
        for (const row of it) yield rowToEvent(row);
      } finally {
        it.return?.();
      }
    } finally {
      conn.close();
    }
  }

  /** Exact count of matching events: whole hours/minutes from the rollups when the filter allows. */
  private countEvents(filter: EventFilter): number {
    const fromEvents = (f: EventFilter) => {
      const w = filterSql(f);
      return this.rdb.prepare(`SELECT count(*) FROM events ${w.where}`).pluck().get(...w.params) as number;
    };
    if (filter.user?.length || filter.ip?.length || filter.q) return fromEvents(filter);
    const fromRollup = (level: number, from: number, to: number) => {
      const r = rollupWhere(filter, from, to);
      return this.rdb.prepare(`SELECT coalesce(sum(count), 0) FROM ${ROLLUPS[level].table} ${r.where}`).pluck().get(...r.params) as number;
    };
    const piece = (from: number, to: number, level: number): number => {
      if (from >= to) return 0;
      if (level >= ROLLUPS.length) return fromEvents({ ...filter, from, to });
      const ms = ROLLUPS[level].ms;
      const fromA = Math.ceil(from / ms) * ms;
      const toA = Math.floor(to / ms) * ms;
      if (fromA >= toA) return piece(from, to, level + 1);
      return fromRollup(level, fromA, toA) + piece(from, fromA, level + 1) + piece(toA, to, level + 1);
    };
    // Open ends: everything stored lies within [-2^53, 2^53).
    return piece(filter.from ?? -Number.MAX_SAFE_INTEGER, filter.to ?? Number.MAX_SAFE_INTEGER, 0);
  }

  async timeseries(filter: EventFilter, intervalMs: number, group: GroupField | null) {
    const sums = new BucketSums();
    // better-sqlite3 binds JS numbers as REAL: CAST keeps the division an integer division.
    const fromEvents = (f: EventFilter) => {
      const w = filterSql(f);
      const key = group ? `"${group}"` : 'NULL';
      return this.rdb
        .prepare(`SELECT (time / CAST(? AS INTEGER)) * ? AS bucket, ${key} AS key, count(*) AS count FROM events ${w.where} GROUP BY bucket, key`)
        .all(intervalMs, intervalMs, ...w.params) as Bucket[];
    };
    // Whole hours / minutes come from the rollups when the filter only uses their dimensions;
    // the partial pieces at either end (and anything else) from the events themselves.
    const rollupsOk = !filter.user?.length && !filter.ip?.length && !filter.q && filter.from !== undefined && filter.to !== undefined;
    const fromRollup = (level: number, from: number, to: number) => {
      const r = rollupWhere(filter, from, to);
      const key = group ? `"${group}"` : 'NULL';
      return this.rdb
        .prepare(
          `SELECT (bucket / CAST(? AS INTEGER)) * ? AS bucket, ${key} AS key, sum(count) AS count FROM ${ROLLUPS[level].table} ${r.where} GROUP BY 1, 2`,
        )
        .all(intervalMs, intervalMs, ...r.params) as Bucket[];
    };
    const piece = (from: number, to: number, level: number): void => {
      if (from >= to) return;
      if (level >= ROLLUPS.length || !rollupsOk) {
        sums.add(fromEvents({ ...filter, from, to }));
        return;
      }
      const ms = ROLLUPS[level].ms;
      const fromA = Math.ceil(from / ms) * ms;
      const toA = Math.floor(to / ms) * ms;
      if (intervalMs % ms !== 0 || fromA >= toA) {
        piece(from, to, level + 1);
        return;
      }
      sums.add(fromRollup(level, fromA, toA));
      piece(from, fromA, level + 1);
      piece(toA, to, level + 1);
    };
    if (rollupsOk) piece(filter.from!, filter.to!, 0);
    else sums.add(fromEvents(filter));
    return sums.sorted();
  }

  async eventStats(filter: EventFilter) {
    const w = filterSql(filter);
    const r = this.rdb
      .prepare(
        `SELECT coalesce(sum(type = 'login' AND outcome = 'success'), 0) AS logins,
                coalesce(sum(type = 'login' AND outcome = 'failure'), 0) AS failures,
                count(DISTINCT user) AS unique_users FROM events ${w.where}`,
      )
      .get(...w.params) as { logins: number; failures: number; unique_users: number };
    return r;
  }

  async distinctValues(field: ValueField, filter: EventFilter, limit: number): Promise<string[]> {
    const { q, ...rest } = filter;
    const extra = [{ sql: `"${field}" IS NOT NULL`, params: [] as unknown[] }];
    if (q) extra.push({ sql: `"${field}" LIKE ? ESCAPE '\\'`, params: [`%${escapeLike(q)}%`] });
    const w = filterSql(rest, undefined, extra);
    return this.rdb.prepare(`SELECT DISTINCT "${field}" FROM events ${w.where} ORDER BY 1 LIMIT ?`).pluck().all(...w.params, limit) as string[];
  }

  async countActiveSessions(user?: string[]): Promise<number> {
    if (!user?.length) return this.stmt.countActiveSessions.get() as number;
    return this.rdb
      .prepare(`SELECT count(*) FROM sessions WHERE ended_at IS NULL AND user IN (${user.map(() => '?').join(', ')})`)
      .pluck()
      .get(...user) as number;
  }

  async countLockedAccounts(now: number, user?: string[]): Promise<number> {
    if (!user?.length) return this.stmt.countLockedAccounts.get({ now }) as number;
    const params: Record<string, unknown> = { now };
    user.forEach((u, i) => (params[`u${i}`] = u));
    return this.rdb
      .prepare(`SELECT count(DISTINCT user) FROM lockouts WHERE ${ACTIVE_LOCK} AND scope IN ('user', 'user_ip') AND user IN (${user.map((_, i) => `@u${i}`).join(', ')})`)
      .pluck()
      .get(params) as number;
  }

  async purgeEventsBefore(before: number): Promise<number> {
    return this.write(async () => {
      const deleted = this.db.prepare('DELETE FROM events WHERE time < ?').run(before).changes;
      // Whole buckets before the cut go; the bucket the cut falls in is recounted.
      for (const r of ROLLUPS) {
        const b = Math.floor(before / r.ms) * r.ms;
        this.db.prepare(`DELETE FROM ${r.table} WHERE bucket <= ?`).run(b);
        this.db
          .prepare(
            `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, count)
             SELECT ?, type, ifnull(outcome, ''), ifnull(reason, ''), ifnull(service, ''), ifnull(country, ''), count(*)
             FROM events WHERE time >= ? AND time < ? GROUP BY 2, 3, 4, 5, 6`,
          )
          .run(b, b, b + r.ms);
      }
      return deleted;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Wait for the writer in progress, then close both connections.
    await this.mutex.run(async () => {
      this.closed = true;
      this.rdb.close();
      this.db.close();
    });
  }
}

/** The WHERE clause picking the rollup rows in [from, to) that match the filter's rollup dimensions. */
function rollupWhere(filter: EventFilter, from: number, to: number): { where: string; params: unknown[] } {
  const clauses = ['bucket >= ?', 'bucket < ?'];
  const params: unknown[] = [from, to];
  for (const col of ['type', 'outcome', 'reason', 'service', 'country'] as const) {
    const vals = filter[col];
    if (!vals?.length) continue;
    clauses.push(`"${col}" IN (${vals.map(() => '?').join(', ')})`);
    params.push(...vals);
  }
  return { where: 'WHERE ' + clauses.join(' AND '), params };
}

export function openSqliteStore(url: string): SqliteStore {
  return new SqliteStore(sqlitePathFromUrl(url));
}
