// Store contract. SQLite (default) and PostgreSQL implement it; test/store-contract runs the same
// suite against each. The core owns and extends this file; the members below are relied on by
// other modules (detections, telemetry, retention) and keep their names and meaning.
import type { StoredEvent } from '../schema/stored-event';
import type { ReserveGroup, ReserveGroupResult } from '../pipeline/reserve-group';

/** Handle valid inside Store.write(); everything done through it commits or rolls back together. */
export interface WriteTx {
  /** Small JSON state for processors (detections: known devices, last login…). */
  getState<T>(namespace: string, key: string): Promise<T | undefined>;
  /** expiresAt (epoch ms) lets the store drop stale state; null keeps it. */
  putState<T>(namespace: string, key: string, value: T, expiresAt: number | null): Promise<void>;
}

/**
 * What a write transaction touches, for stores that lock per key (PostgreSQL): user names, client
 * addresses and session ids, as sent or as keyed (the store folds case and address spelling and
 * locks IPv6 by /32, so either form finds the same lock). A write that names its keys runs in
 * parallel with writes for other keys on every replica; a write without keys is serialised
 * against every other writer. The key-locking store may only touch state under these keys (users,
 * addresses, their counters, locks, reservations, sessions and state keyed by them).
 */
export interface LockKeys {
  users?: Iterable<string | null | undefined>;
  ips?: Iterable<string | null | undefined>;
  sessions?: Iterable<string | null | undefined>;
  /**
   * PostgreSQL: the keys' own locks only, not the stripes a big batch holds while it runs its
   * processors, so the transaction does not wait for batches. Only for attempt reservations: every
   * read their decision makes is one statement (prefetchKeys), so a batch committing meanwhile is
   * seen whole or not at all, and they write nothing a batch reads (docs/lockout.md).
   */
  keysOnly?: boolean;
  /**
   * PostgreSQL: every key, as stripes (the sweeper, whose keys are not known up front). Unlike a
   * write without keys it leaves the cluster-wide write lock shared, so attempt reservations
   * (keysOnly) never queue behind it; every other writer still waits for it.
   */
  everyKey?: boolean;
}

export interface Store {
  /**
   * Runs fn atomically. Serialised against every other writer (across replicas for PostgreSQL),
   * or, with `keys`, against every writer of any of those keys. SQLite ignores keys (one writer).
   */
  write<T>(fn: (tx: WriteTx) => Promise<T>, keys?: LockKeys): Promise<T>;
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

// Domain types live in schema/domain.ts (the API, processors and schema use them without the store).
export type { Escalation, LockRow, LockScope, NewLock, Policy, Reservation, SessionRow } from '../schema/domain';
import type { LockRow, LockScope, NewLock, Policy, Reservation, SessionRow } from '../schema/domain';

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
  /**
   * Marks open reservations whose expires_at <= now as expired and returns them; with `keys`, only
   * those of that user key or that IP key (what one check's decision counts).
   */
  expireReservations(now: number, keys?: ReservationKeys): Promise<Reservation[]>;
  /** Deletes expired reservations that expired before `before`. */
  pruneReservations(before: number): Promise<void>;
  /** Drops processor state whose expiresAt has passed. */
  pruneState(now: number): Promise<void>;
  /**
   * Optional: what the next reads will be about (a group of reservations), so a store a round trip
   * away fetches it at once. Reads answer the same with or without it; in a PostgreSQL keys-only
   * transaction a read it did not cover makes the store run the transaction again with stripes.
   */
  prefetchKeys?(want: KeyPrefetch): Promise<void>;
}

/** Lockout user keys, IP keys, failure-counter keys and (namespace, key) state rows. */
export interface KeyPrefetch {
  users: readonly string[];
  ips: readonly string[];
  counters: readonly string[];
  state: readonly (readonly [string, string])[];
}

/** A check's user key and IP key (either may be null). */
export interface ReservationKeys {
  user: string | null;
  ip: string | null;
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
  write<T>(fn: (tx: CoreWriteTx) => Promise<T>, keys?: LockKeys): Promise<T>;
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
  /**
   * Optional: the same rows as CSV lines (schema/csv.ts csvLines, no header), at most `limit`,
   * in chunks formatted off the event-loop thread. Without it the export formats streamEvents.
   */
  streamCsv?(filter: EventFilter, order: 'asc' | 'desc', opts: { hide: boolean; limit: number }): AsyncIterable<string>;
  /** Counts per aligned bucket start (ms) and group key (null key when group is absent). */
  timeseries(filter: EventFilter, intervalMs: number, group: GroupField | null): Promise<{ bucket: number; key: string | null; count: number }[]>;
  eventStats(filter: EventFilter): Promise<{ logins: number; failures: number; unique_users: number }>;
  distinctValues(field: ValueField, filter: EventFilter, limit: number): Promise<string[]>;
  countActiveSessions(user?: string[]): Promise<number>;
  countLockedAccounts(now: number, user?: string[]): Promise<number>;
  /**
   * Optional: a whole group commit in one call (the SQLite worker store runs the collector's
   * processors inside its writer thread). Serialised with write(). Only offered when the store was
   * opened with the processors' configuration; the pipeline then uses it instead of write(). The
   * store may empty the batches' arrays once it has taken their events (the committed events it
   * answers are its own copies), so the caller must not read them afterwards.
   */
  ingestGroup?(group: IngestGroup): Promise<IngestGroupResult>;
  /**
   * How many group commits the pipeline may have in flight at once (default 1). Only a store that
   * runs the groups it is given strictly in the order given (and their answers in that order) may
   * say more than 1.
   */
  readonly parallelWrites?: number;
  /**
   * Optional: attempt reservations (`/v1/check` with "attempt": true) run as one transaction for
   * every reservation queued meanwhile, ahead of the group commits queued in the store (the SQLite
   * worker store: its writer thread takes them before its next group). Without it the pipeline
   * groups the reservations that wait meanwhile into write()s of its own (pipeline/reserve-queue.ts).
   */
  reserveAttempts?(group: ReserveGroup): Promise<ReserveGroupResult>;
}

/** One group commit: the validated, enriched events of each batch, and the clock for processing. */
export interface IngestGroup {
  batches: StoredEvent[][];
  now: number;
}

/**
 * Per batch: its counts and (first batch) the events the processors made, or why it was refused;
 * and every committed event, for the sinks.
 */
export interface IngestGroupResult {
  /** At hand when the commit's answer arrives: `made` is all that decisions read (lockouts, unlocks). */
  outcomes: ({ ok: true; result: { accepted: number; duplicates: number }; made: StoredEvent[] } | { ok: false; error: Error })[];
  /**
   * Every committed event of the group in order (each batch's fresh events, then what the
   * processors made), for the sinks. May take turns of the event loop (the SQLite worker store
   * parses them back a slice per turn); `outcomes` never waits for it.
   */
  committed(): Promise<StoredEvent[]>;
  /** Set when the transaction failed as a whole: nothing of the group is stored, every batch is refused. */
  failed?: Error;
  /** What the processors logged (warn/error), for the collector's log. */
  logs: { level: 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }[];
}

/** A query parameter the store cannot use (bad cursor…): the API answers 400. */
export class BadQuery extends Error {}
