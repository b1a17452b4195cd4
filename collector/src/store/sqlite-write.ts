// The SQLite write side, synchronous: one connection, explicit transaction control, and every
// CoreWriteTx operation as a plain function. SqliteStore drives it in-process; the worker store
// drives the same object inside a worker thread, one operation per message.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredEvent } from '../schema/stored-event';
import { storedPolicy } from '../schema/policy';
import { activeLockAt } from './engine/records';
import { sqliteMigrations } from './migrations/sqlite';
import { byCreation, EVENT_COLUMNS, ROLLUPS, rollupCounts, rowToLock, rowToReservation, rowToSession } from './rows';
import type { Row } from './rows';
import { prepareSmallRollupUpserts, rebuildSmallRollupsBefore, smallRollupCounts } from './sqlite-rollups';
import { registerTermFunctions, TermIndexer } from './sqlite-terms';
import type { CoreWriteTx, LockScope, NewLock, Policy } from './store';

export type Db = Database.Database;

/** AUTHWATCH_SQLITE_SYNC: full (default) fsyncs the WAL at every commit; normal only at checkpoints. */
export type SqliteSync = 'full' | 'normal';

export interface SqliteOptions {
  synchronous?: SqliteSync;
}

/** Reads AUTHWATCH_SQLITE_SYNC; anything but full/normal is an operator error. */
export function sqliteSyncFromEnv(env: NodeJS.ProcessEnv): SqliteSync {
  const raw = (env.AUTHWATCH_SQLITE_SYNC ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'full') return 'full';
  if (raw === 'normal') return 'normal';
  throw new Error(`AUTHWATCH_SQLITE_SYNC=${env.AUTHWATCH_SQLITE_SYNC}: expected full (default) or normal`);
}

/** The connection settings of the write connection (the bench applies the same to its baselines). */
export function writePragmas(sync: SqliteSync = 'full'): Record<string, string | number> {
  return {
    journal_mode: 'WAL',
    // FULL: the WAL is fsynced at every COMMIT, so "202 after commit" survives power loss too
    // (NORMAL only survives a process crash).
    synchronous: sync === 'normal' ? 'NORMAL' : 'FULL',
    busy_timeout: 5000,
    // A 64 MB page cache keeps the hot index pages in memory; checkpointing every ~40 MB of WAL
    // instead of 4 MB lets repeated index-page writes coalesce (both measured: ~2x batch ingest).
    cache_size: -65536,
    wal_autocheckpoint: 10000,
    temp_store: 'MEMORY',
  };
}

/** Applies the collector's schema migrations (each once, in its own transaction). */
export function migrate(db: Db): void {
  registerTermFunctions(db);
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

export function openWriteConnection(file: string, opts: SqliteOptions = {}): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  for (const [k, v] of Object.entries(writePragmas(opts.synchronous))) db.pragma(`${k} = ${v}`);
  migrate(db);
  return db;
}

const ACTIVE_LOCK = activeLockAt('@now');

function eventParams(e: StoredEvent): unknown[] {
  return [
    e.id, e.time, e.received_at, e.type, e.outcome, e.reason, e.user, e.user_id, e.email, e.session_id, e.ip,
    e.user_agent, e.device, e.app_version, e.service, e.entry, e.attributes ? JSON.stringify(e.attributes) : null,
    e.actor, e.country, e.city, e.latitude, e.longitude, e.asn, e.isp, e.browser, e.browser_version, e.os,
    e.os_version, e.device_type,
  ];
}

/** Every CoreWriteTx operation but savepoint and the optional prefetch hint, synchronous. */
export type SyncWriteOps = {
  [K in Exclude<keyof CoreWriteTx, 'savepoint' | 'prefetchKeys'>]: (...args: Parameters<CoreWriteTx[K]>) => Awaited<ReturnType<CoreWriteTx[K]>>;
};
export type WriteOpName = keyof SyncWriteOps;

/** Operations whose result is nothing: a caller need not wait for them (errors surface later). */
export const VOID_OPS: ReadonlySet<WriteOpName> = new Set<WriteOpName>([
  'putState', 'pruneState', 'putPolicy', 'touchSession', 'clearFailures', 'pruneFailures', 'insertReservation', 'pruneReservations',
]);

const HOUR = 3_600_000;

export class SqliteWriter {
  readonly db: Db;
  readonly ops: SyncWriteOps;
  private readonly terms: TermIndexer;
  /** user → the hour of their latest event as stored in user_last_seen (bounded; forgotten on rollback). */
  private readonly lastSeen = new Map<string, number>();
  private savepoints = 0;

  constructor(readonly file: string, opts: SqliteOptions = {}) {
    this.db = openWriteConnection(file, opts);
    this.terms = new TermIndexer(this.db);
    this.ops = this.makeOps();
  }

  private makeOps(): SyncWriteOps {
    const db = this.db;
    const activeLocksSql = `SELECT * FROM lockouts WHERE ${ACTIVE_LOCK} AND (
        (scope = 'user' AND user = @user) OR (scope = 'user_ip' AND user = @user AND ip = @ip) OR (scope = 'ip' AND ip = @ip))
      ORDER BY locked_at`;
    const st = {
      insertEvent: db.prepare(
        `INSERT OR IGNORE INTO events (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
      ),
      bumpCounts: ROLLUPS.map((r) =>
        db.prepare(
          `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, count) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (bucket, type, outcome, reason, service, country) DO UPDATE SET count = count + excluded.count`,
        ),
      ),
      bumpSmall: prepareSmallRollupUpserts(db),
      seen: db.prepare('INSERT INTO user_last_seen (user, hour) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET hour = max(hour, excluded.hour)'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getState: db.prepare('SELECT value FROM state WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)').pluck(),
      putState: db.prepare(
        'INSERT INTO state (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      ),
      pruneState: db.prepare('DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      getSession: db.prepare('SELECT * FROM sessions WHERE id = ?'),
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
      // Each arm on its partial index (a check's keys).
      expireKeyedReservations: db.prepare(
        `UPDATE reservations SET expired = 1 WHERE id IN (
           SELECT id FROM reservations WHERE expired = 0 AND user = @user AND expires_at <= @now
           UNION SELECT id FROM reservations WHERE expired = 0 AND ip = @ip AND expires_at <= @now) RETURNING *`,
      ),
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
    };
    const noteUser = (e: StoredEvent) => {
      const hour = Math.floor(e.time / HOUR) * HOUR;
      const known = this.lastSeen.get(e.user);
      if (known !== undefined && known >= hour) return;
      st.seen.run(e.user, hour);
      if (this.lastSeen.size >= 100_000) this.lastSeen.clear();
      this.lastSeen.set(e.user, hour);
    };
    return {
      getState: <T>(namespace: string, key: string) => {
        const v = st.getState.get(namespace, key, Date.now()) as string | undefined;
        return v === undefined ? undefined : (JSON.parse(v) as T);
      },
      putState: <T>(namespace: string, key: string, value: T, expiresAt: number | null) => {
        st.putState.run(namespace, key, JSON.stringify(value), expiresAt);
      },
      pruneState: (now) => {
        st.pruneState.run(now);
      },
      insertEvents: (events) => {
        const out = events.map((e) => {
          const r = st.insertEvent.run(eventParams(e));
          if (r.changes !== 1) return false;
          this.terms.add(Number(r.lastInsertRowid), e);
          noteUser(e);
          return true;
        });
        // Rollups of what was actually inserted: one upsert per distinct key and level.
        rollupCounts(events, out).forEach((m, l) => {
          for (const c of m.values()) st.bumpCounts[l].run(c);
        });
        smallRollupCounts(events, out).forEach((m, l) => {
          for (const c of m.values()) st.bumpSmall[l].run(c);
        });
        return out;
      },
      getPolicy: () => storedPolicy(st.getMeta.get('policy') as string | undefined),
      putPolicy: (p) => {
        st.putMeta.run('policy', JSON.stringify(p));
      },
      getSession: (id) => {
        const r = st.getSession.get(id) as Row | undefined;
        return r ? rowToSession(r) : undefined;
      },
      openSession: (row) => st.openSession.run(row).changes === 1,
      touchSession: (id, time, ip, service) => {
        st.touchSession.run(time, ip, service, id);
      },
      endSession: (id, time, reason) => st.endSession.run(time, reason, id).changes === 1,
      activeSessionsOfUser: (user) => (st.activeSessionsOfUser.all(user) as Row[]).map(rowToSession),
      idleSessions: (before, limit) => (st.idleSessions.all(before, limit) as Row[]).map(rowToSession),
      activeLocks: (user, ip, now) => (st.activeLocks.all({ user, ip, now }) as Row[]).map(rowToLock),
      addFailure: (keys, time, since) =>
        keys.map((k) => {
          st.addFailure.run(k, time);
          return st.countFailures.get(k, since) as number;
        }),
      countFailures: (keys, since) => keys.map((k) => st.countFailures.get(k, since) as number),
      clearFailures: (keys) => {
        for (const k of keys) st.clearFailures.run(k);
      },
      insertReservation: (r) => {
        st.insertReservation.run(r);
      },
      countReservations: (user, ip) => st.countReservations.get({ user, ip }) as { user: number; user_ip: number; ip: number },
      takeReservation: (id) => {
        const r = st.takeReservation.get(id) as Row | undefined;
        return r ? rowToReservation(r) : undefined;
      },
      expireReservations: (now, keys) =>
        keys
          ? (st.expireKeyedReservations.all({ now, user: keys.user, ip: keys.ip }) as Row[]).map(rowToReservation).sort(byCreation)
          : (st.expireReservations.all(now) as Row[]).map(rowToReservation),
      pruneReservations: (before) => {
        st.pruneReservations.run(before);
      },
      pruneFailures: (before) => {
        st.pruneFailures.run(before);
      },
      countLocks: (scope: LockScope, user, ip) => {
        if (scope === 'user') return st.countLocksUser.get(user) as number;
        if (scope === 'user_ip') return st.countLocksUserIp.get(user, ip) as number;
        return st.countLocksIp.get(ip) as number;
      },
      insertLock: (lock: NewLock) => rowToLock(st.insertLock.get(lock) as Row),
      unlock: (sel, now, actor) => {
        let rows: Row[];
        if (sel.user !== undefined && sel.ip !== undefined) rows = st.unlockUserIp.all({ now, actor, user: sel.user, ip: sel.ip }) as Row[];
        else if (sel.user !== undefined) rows = st.unlockUser.all({ now, actor, user: sel.user }) as Row[];
        else if (sel.ip !== undefined) rows = st.unlockIp.all({ now, actor, ip: sel.ip }) as Row[];
        else rows = [];
        return rows.map(rowToLock);
      },
    };
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** IMMEDIATE takes the write lock up front, so another process on the same file cannot
   * interleave between our reads and writes (counting stays atomic). */
  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.savepoints = 0;
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.forget();
  }

  /** How many savepoints are open. */
  get depth(): number {
    return this.savepoints;
  }

  /** Opens savepoint number `depth` (1 for the outermost), nested in the ones below it. */
  savepoint(depth: number): void {
    this.db.exec(`SAVEPOINT sp${depth}`);
    this.savepoints = depth;
  }

  release(depth: number): void {
    this.db.exec(`RELEASE sp${depth}`);
    this.savepoints = depth - 1;
  }

  rollbackTo(depth: number): void {
    this.forget();
    if (this.db.inTransaction) {
      this.db.exec(`ROLLBACK TO sp${depth}`);
      this.db.exec(`RELEASE sp${depth}`);
    }
    this.savepoints = depth - 1;
  }

  /** What the in-memory shortcuts remember may have been rolled back. */
  private forget(): void {
    this.terms.forget();
    this.lastSeen.clear();
  }

  /** Reads a meta value, or stores `value` under it when absent, in its own transaction. */
  getOrCreateMeta(key: string, value: string): string {
    return this.db
      .transaction(() => {
        this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, value);
        return this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string;
      })
      .immediate();
  }

  /** Retention: deletes events older than `before` with their search tokens; fixes the rollups and last-seen hours. */
  purgeEventsBefore(before: number): number {
    const db = this.db;
    try {
      return db
        .transaction(() => {
          this.terms.purgeBefore(before);
          const deleted = db.prepare('DELETE FROM events WHERE time < ?').run(before).changes;
          // Whole buckets before the cut go; the bucket the cut falls in is recounted.
          for (const r of ROLLUPS) {
            const b = Math.floor(before / r.ms) * r.ms;
            db.prepare(`DELETE FROM ${r.table} WHERE bucket <= ?`).run(b);
            db.prepare(
              `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, count)
               SELECT ?, type, ifnull(outcome, ''), ifnull(reason, ''), ifnull(service, ''), ifnull(country, ''), count(*)
               FROM events WHERE time >= ? AND time < ? GROUP BY 2, 3, 4, 5, 6`,
            ).run(b, b, b + r.ms);
          }
          rebuildSmallRollupsBefore(db, before);
          // Users whose latest event went: gone from user_last_seen (their hour is at most the cut's).
          const cutHour = Math.floor(before / HOUR) * HOUR;
          db.prepare('DELETE FROM user_last_seen WHERE hour < ?').run(cutHour);
          db.prepare('DELETE FROM user_last_seen WHERE hour = ? AND NOT EXISTS (SELECT 1 FROM events e WHERE e.user = user_last_seen.user)').run(cutHour);
          return deleted;
        })
        .immediate();
    } finally {
      this.forget();
    }
  }

  close(): void {
    this.db.close();
  }
}

/** Every CoreWriteTx operation but savepoint (the worker store forwards these by name). */
export const WRITE_OPS: readonly WriteOpName[] = [
  'getState', 'putState', 'pruneState', 'insertEvents', 'getPolicy', 'putPolicy', 'getSession', 'openSession', 'touchSession',
  'endSession', 'activeSessionsOfUser', 'idleSessions', 'activeLocks', 'countFailures', 'addFailure', 'clearFailures', 'pruneFailures',
  'countLocks', 'insertLock', 'unlock', 'insertReservation', 'countReservations', 'takeReservation', 'expireReservations', 'pruneReservations',
];

/** The CoreWriteTx face of the synchronous write operations (as the in-process SqliteStore has). */
export function writerTx(w: SqliteWriter): CoreWriteTx {
  const out: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
  for (const name of WRITE_OPS) {
    const f = w.ops[name] as (...a: unknown[]) => unknown;
    out[name] = async (...a) => f(...a);
  }
  return {
    ...(out as unknown as Omit<CoreWriteTx, 'savepoint'>),
    savepoint: async <T>(fn: () => Promise<T>) => {
      const depth = w.depth + 1;
      w.savepoint(depth);
      try {
        const r = await fn();
        w.release(depth);
        return r;
      } catch (e) {
        w.rollbackTo(depth);
        throw e;
      }
    },
  };
}
