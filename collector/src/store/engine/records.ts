// Reads of the small tables: policy, sessions, lockouts and the gauges over them.
import { storedPolicy } from '../../schema/policy';
import { rowToLock, rowToSession } from '../rows';
import type { LockQuery, LockRow, Policy, SessionQuery, SessionRow } from '../store';
import type { Dialect } from './dialect';
import { all, scalar, type Clause, type Plan } from './plan';

/** Locks in force at `now` (a placeholder of the caller's style: ?, @now, $1…). */
export const activeLockAt = (now: string): string => `unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > ${now})`;

/** Locks in force at the bound `now`. */
export const ACTIVE_LOCK = activeLockAt('?');

function where(clauses: Clause[]): Clause {
  return { sql: clauses.length ? 'WHERE ' + clauses.map((c) => c.sql).join(' AND ') : '', params: clauses.flatMap((c) => c.params) };
}

export function* getPolicy(): Plan<Policy> {
  const [row] = yield* all('SELECT value FROM meta WHERE key = ?', ['policy']);
  return storedPolicy(row?.value as string | undefined);
}

/** Locks in force at `now` that apply to user/ip. */
export function* activeLocks(user: string | null, ip: string | null, now: number): Plan<LockRow[]> {
  const rows = yield* all(
    `SELECT * FROM lockouts WHERE ${ACTIVE_LOCK} AND (
       (scope = 'user' AND "user" = ?) OR (scope = 'user_ip' AND "user" = ? AND ip = ?) OR (scope = 'ip' AND ip = ?))
     ORDER BY locked_at, id`,
    [now, user, user, ip, ip],
  );
  return rows.map(rowToLock);
}

export function* getSession(id: string): Plan<SessionRow | undefined> {
  return (yield* all('SELECT * FROM sessions WHERE id = ?', [id])).map(rowToSession)[0];
}

export function* listSessions(d: Dialect, q: SessionQuery): Plan<SessionRow[]> {
  const c: Clause[] = [];
  if (q.state === 'active') c.push({ sql: 'ended_at IS NULL', params: [] });
  if (q.state === 'ended') c.push({ sql: 'ended_at IS NOT NULL', params: [] });
  if (q.user?.length) c.push(d.inList('"user"', q.user));
  // Sessions that overlap [from, to).
  if (q.to !== undefined) c.push({ sql: 'started_at < ?', params: [q.to] });
  if (q.from !== undefined) c.push({ sql: '(ended_at IS NULL OR ended_at >= ?)', params: [q.from] });
  const w = where(c);
  const rows = yield* all(`SELECT * FROM sessions ${w.sql} ORDER BY started_at DESC, id${d.byteOrder} LIMIT ?`, [...w.params, q.limit]);
  return rows.map(rowToSession);
}

export function* listLockouts(d: Dialect, q: LockQuery): Plan<LockRow[]> {
  // `now` is bound only when the state filter uses it (PostgreSQL cannot type an unused parameter).
  const c: Clause[] = [];
  if (q.state === 'locked') c.push({ sql: ACTIVE_LOCK, params: [q.now] });
  if (q.user?.length) c.push(d.inList('"user"', q.user));
  const w = where(c);
  return (yield* all(`SELECT * FROM lockouts ${w.sql} ORDER BY locked_at DESC, id DESC LIMIT ?`, [...w.params, q.limit])).map(rowToLock);
}

export function* countActiveSessions(d: Dialect, user?: string[]): Plan<number> {
  const w = where([{ sql: 'ended_at IS NULL', params: [] }, ...(user?.length ? [d.inList('"user"', user)] : [])]);
  return yield* scalar(`SELECT count(*) AS n FROM sessions ${w.sql}`, w.params);
}

export function* countLockedAccounts(d: Dialect, now: number, user?: string[]): Plan<number> {
  const c: Clause[] = [{ sql: `${ACTIVE_LOCK} AND scope IN ('user', 'user_ip')`, params: [now] }];
  if (user?.length) c.push(d.inList('"user"', user));
  const w = where(c);
  return yield* scalar(`SELECT count(DISTINCT "user") AS n FROM lockouts ${w.sql}`, w.params);
}
