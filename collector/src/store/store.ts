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
