// Processor state when several collector processes write one store (PostgreSQL replicas): a
// processor that keeps windows in memory would see only its replica's share of the traffic, so
// it asks the transaction whether it is shared and then keeps them in transaction state instead.
import type { WriteTx } from './store';

/**
 * Namespaces starting with this hold state that may be lost in a database crash (detection
 * windows and cooldowns refill from traffic within one window). PostgreSQL keeps them in an
 * UNLOGGED table: no WAL for rows rewritten on every batch. Other stores keep them as any state.
 */
export const SOFT_STATE_PREFIX = 'soft:';

const SHARED = Symbol.for('authwatch.sharedTx');

/** Marks a transaction of a store that several processes write at once. */
export function markShared<T extends object>(tx: T): T {
  Object.defineProperty(tx, SHARED, { value: true, enumerable: false });
  return tx;
}

export function isSharedTx(tx: WriteTx): boolean {
  return (tx as unknown as Record<symbol, unknown>)[SHARED] === true;
}

/**
 * One row of a key's detection-window log: the attempts one batch added (a delta) or, every so
 * often, the key's whole live window (a snapshot, which makes the rows before it obsolete).
 * Each write has a random token: a row carries its predecessor's (`prev`), so a replica can tell
 * that the rows it reads follow what it cached.
 */
export interface WindowLogRow {
  /** Index of the range (readWindowLog's argument) the row answers. */
  range: number;
  seq: number;
  prev: number;
  data: string;
}

/** The rows from ≤ seq < to of one generation of a key's log. */
export interface WindowLogRange {
  key: string;
  gen: number;
  from: number;
  to: number;
}

export interface WindowLogWrite {
  key: string;
  gen: number;
  seq: number;
  prev: number;
  data: string;
  expiresAt: number;
  snapshot: boolean;
}

/**
 * A shared transaction's append-only log of detection windows, so a batch writes what it added to
 * a key's windows instead of rewriting them whole (PostgreSQL: the UNLOGGED window_log table).
 */
export interface WindowLog {
  /** The rows in these ranges, by range and then seq. */
  readWindowLog(namespace: string, ranges: readonly WindowLogRange[]): Promise<WindowLogRow[]>;
  /**
   * Writes rows (buffered until the transaction's next statement). A snapshot drops its key's
   * earlier rows, and a generation's first row the key's rows of other generations.
   */
  appendWindowLog(namespace: string, rows: readonly WindowLogWrite[]): Promise<void>;
}

const hasWindowLog = (tx: WriteTx): tx is WriteTx & WindowLog =>
  typeof (tx as Partial<WindowLog>).readWindowLog === 'function' && typeof (tx as Partial<WindowLog>).appendWindowLog === 'function';

/**
 * The transaction's window log, or one kept in its state rows (one row per log row, left to expire
 * rather than dropped) for a store without one.
 */
export function windowLogOf(tx: WriteTx): WindowLog {
  if (hasWindowLog(tx)) return tx;
  const rowKey = (key: string, gen: number, seq: number) => `${key}\u0000${gen}\u0000${seq}`;
  return {
    async readWindowLog(namespace, ranges) {
      const out: WindowLogRow[] = [];
      for (const [range, r] of ranges.entries()) {
        for (let seq = r.from; seq < r.to; seq++) {
          const row = await tx.getState<{ p: number; d: string }>(`${namespace}~log`, rowKey(r.key, r.gen, seq));
          if (row) out.push({ range, seq, prev: row.p, data: row.d });
        }
      }
      return out;
    },
    async appendWindowLog(namespace, rows) {
      for (const r of rows) await tx.putState(`${namespace}~log`, rowKey(r.key, r.gen, r.seq), { p: r.prev, d: r.data }, r.expiresAt);
    },
  };
}
