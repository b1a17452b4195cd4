// Store contract. SQLite (default) and PostgreSQL implement it; test/store-contract runs the same
// suite against each. The core owns and extends this file; the members below are relied on by
// other modules (detections, telemetry, retention) and keep their names and meaning.
import type { StoredEvent } from '../schema/stored-event';

/** Handle valid inside Store.write(); everything done through it commits or rolls back together. */
export interface WriteTx {
  /** Small JSON state for processors (detections: known devices, last login…). */
  getState<T>(namespace: string, key: string): Promise<T | undefined>;
  /** expiresAt (epoch ms) lets the store drop stale state; null keeps it. */
  putState<T>(namespace: string, key: string, value: T, expiresAt: number | null): Promise<void>;
}

export interface Store {
  /** Runs fn atomically, serialised against every other writer (across replicas for PostgreSQL). */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** Gauges read these, so they are right after a restart. */
  countActiveSessions(): Promise<number>;
  countLockedAccounts(now: number): Promise<number>;
  /** Retention: deletes events older than `before` (epoch ms); returns how many. */
  purgeEventsBefore(before: number): Promise<number>;
  close(): Promise<void>;
}

export type { StoredEvent };

// ---------------------------------------------------------------------------------------------
// Core extensions (sessions, lockouts, policy, queries). Kept separate from WriteTx/Store so code
// that only needs getState/putState (detections, tests' fakes) does not have to implement these.
// Every method is async so the PostgreSQL store can implement the same contract.

export type LockScope = 'user' | 'user_ip' | 'ip';
export type Escalation = 'none' | 'linear' | 'multiple';

export interface Policy {
  max_failed_attempts: number;
  window_seconds: number;
  lock_seconds: number;
  escalation: Escalation;
  max_lock_seconds: number;
  /** Locks after which the next one is permanent; null = never permanent, 0 = always. */
  permanent_after: number | null;
  scope: 'user' | 'user_ip';
  ip_max_failed_attempts: number;
  idle_timeout_seconds: number;
  single_session: boolean;
  session_ip_binding: boolean;
  /** User names differ by case (NFC always applies). */
  user_case_sensitive: boolean;
  /** IPv6 addresses are counted and blocked by this prefix length. */
  ipv6_prefix: number;
  /** An attempt reserved by /v1/check and never settled counts as a failure after this long. */
  attempt_ttl_seconds: number;
}

export interface SessionRow {
  /** Keyed hash (hex) of the client's session id. */
  id: string;
  user: string;
  user_id: string | null;
  ip: string | null;
  country: string | null;
  city: string | null;
  isp: string | null;
  asn: number | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  device_type: string | null;
  service: string | null;
  started_at: number;
  last_seen_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

export interface LockRow {
  id: number;
  scope: LockScope;
  /** null for scope "ip". */
  user: string | null;
  ip: string | null;
  failures: number;
  locked_at: number;
  /** null = until an admin unlocks. */
  locked_until: number | null;
  reason: string;
  unlocked_at: number | null;
  unlocked_by: string | null;
}

export type NewLock = Omit<LockRow, 'id' | 'unlocked_at' | 'unlocked_by'>;

/** One login attempt reserved by POST /v1/check {"attempt": true}, until its outcome arrives. */
export interface Reservation {
  id: string;
  /** Lockout keys (normalised user, canonical IP or IPv6 prefix). */
  user: string | null;
  ip: string | null;
  /** As the application sent them, for the event written when the reservation expires. */
  display_user: string | null;
  display_ip: string | null;
  created_at: number;
  expires_at: number;
  /** Expired unsettled: already counted as a failure. */
  expired: boolean;
}

export interface CoreWriteTx extends WriteTx {
  /** Runs fn so that, if it throws, only its own changes are rolled back (group commit). */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
  /** Inserts events; result[i] is false when events[i].id was already stored (a duplicate). */
  insertEvents(events: readonly StoredEvent[]): Promise<boolean[]>;
  getPolicy(): Promise<Policy>;
  putPolicy(policy: Policy): Promise<void>;

  getSession(id: string): Promise<SessionRow | undefined>;
  /** false when a session with this id already exists. */
  openSession(row: SessionRow): Promise<boolean>;
  touchSession(id: string, time: number, ip: string | null, service: string | null): Promise<void>;
  /** Ends an active session; false when it was not active. */
  endSession(id: string, time: number, reason: string): Promise<boolean>;
  activeSessionsOfUser(user: string): Promise<SessionRow[]>;
  /** Active sessions whose last_seen_at is before `before`. */
  idleSessions(before: number, limit: number): Promise<SessionRow[]>;

  /** Locks in force at `now` that apply to user/ip. */
  activeLocks(user: string | null, ip: string | null, now: number): Promise<LockRow[]>;
  /** Each key's failure count since `since`. */
  countFailures(keys: readonly string[], since: number): Promise<number[]>;
  /** Records one failure under each key at `time` and returns each key's count since `since`. */
  addFailure(keys: readonly string[], time: number, since: number): Promise<number[]>;
  clearFailures(keys: readonly string[]): Promise<void>;
  pruneFailures(before: number): Promise<void>;
  /** How many locks this key ever had (for escalation). */
  countLocks(scope: LockScope, user: string | null, ip: string | null): Promise<number>;
  insertLock(lock: NewLock): Promise<LockRow>;
  /** Lifts locks in force; `user` and/or `ip` select them. Returns the lifted rows. */
  unlock(sel: { user?: string; ip?: string }, now: number, actor: string): Promise<LockRow[]>;
  insertReservation(r: Omit<Reservation, 'expired'>): Promise<void>;
  /** Open (unexpired) reservations for the user key, the user+IP pair and the IP key. */
  countReservations(user: string | null, ip: string | null): Promise<{ user: number; user_ip: number; ip: number }>;
  /** Removes and returns a reservation (expired ones too), or undefined. */
  takeReservation(id: string): Promise<Reservation | undefined>;
  /** Marks open reservations whose expires_at <= now as expired and returns them. */
  expireReservations(now: number): Promise<Reservation[]>;
  /** Deletes expired reservations that expired before `before`. */
  pruneReservations(before: number): Promise<void>;
  /** Drops processor state whose expiresAt has passed. */
  pruneState(now: number): Promise<void>;
}

export interface EventFilter {
  from?: number;
  to?: number;
  user?: string[];
  type?: string[];
  outcome?: string[];
  reason?: string[];
  ip?: string[];
  service?: string[];
  country?: string[];
  q?: string;
}

export interface EventPage {
  events: StoredEvent[];
  total: number;
  next_cursor: string | null;
}

export const GROUP_FIELDS = ['outcome', 'reason', 'service', 'country', 'type'] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];
export const VALUE_FIELDS = ['user', 'service', 'reason', 'country', 'type', 'ip', 'outcome'] as const;
export type ValueField = (typeof VALUE_FIELDS)[number];

export interface SessionQuery {
  state: 'active' | 'ended' | 'all';
  user?: string[];
  from?: number;
  to?: number;
  limit: number;
}

export interface LockQuery {
  state: 'locked' | 'all';
  user?: string[];
  now: number;
  limit: number;
}

export interface CoreStore extends Store {
  /** Which backend ("sqlite" / "postgres") and where, for the startup banner. */
  readonly description: string;
  write<T>(fn: (tx: CoreWriteTx) => Promise<T>): Promise<T>;
  /** Reads a meta value, or stores make() under it when absent (first writer wins). */
  getOrCreateMeta(key: string, make: () => string): Promise<string>;
  getPolicy(): Promise<Policy>;
  activeLocks(user: string | null, ip: string | null, now: number): Promise<LockRow[]>;
  getSession(id: string): Promise<SessionRow | undefined>;
  listSessions(q: SessionQuery): Promise<SessionRow[]>;
  listLockouts(q: LockQuery): Promise<LockRow[]>;
  queryEvents(filter: EventFilter, page: { limit: number; cursor: string | null; order: 'asc' | 'desc' }): Promise<EventPage>;
  /** Every matching event, streamed; the consumer awaits between rows so memory stays flat. */
  streamEvents(filter: EventFilter, order: 'asc' | 'desc'): AsyncIterable<StoredEvent>;
  /** Counts per aligned bucket start (ms) and group key (null key when group is absent). */
  timeseries(filter: EventFilter, intervalMs: number, group: GroupField | null): Promise<{ bucket: number; key: string | null; count: number }[]>;
  eventStats(filter: EventFilter): Promise<{ logins: number; failures: number; unique_users: number }>;
  distinctValues(field: ValueField, filter: EventFilter, limit: number): Promise<string[]>;
  countActiveSessions(user?: string[]): Promise<number>;
  countLockedAccounts(now: number, user?: string[]): Promise<number>;
}

/** A query parameter the store cannot use (bad cursor…): the API answers 400. */
export class BadQuery extends Error {}
