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
