// PostgreSQL store: the same contract as the SQLite store, for several collector replicas on one
// database (docs/scale-out.md).
//  - Writes lock per key, not per cluster: a write names the users, addresses and sessions it
//    touches and takes transaction-scoped advisory locks for them in a fixed order
//    (postgres-locks.ts), so batches for different users commit in parallel on every replica while
//    lockout counting and attempt reservations stay exact. A write without keys (admin actions,
//    the sweeper) takes the cluster-wide write lock exclusively, as every write used to. COMMIT or
//    ROLLBACK releases the locks whatever happens to the process.
//  - Writes are batch-shaped: one statement inserts a batch's events and rollups, one fetches what
//    the processors will ask about its keys, one writes what they changed (postgres-tx.ts).
//  - Lock changes are announced with NOTIFY (onLockChange), so replicas can answer /v1/check from
//    memory and learn of other replicas' locks and unlocks as soon as they commit.
//  - Events are partitioned by day; retention drops whole partitions (maintainPartitions,
//    purgeEventsBefore).
// Reads run the read engine (engine/*.ts) over postgres-dialect.ts on a pool; CSV export streams
// through a server-side cursor. The lock mirror is postgres-mirror.ts, partitions postgres-partitions.ts.
import pg from 'pg';
import type { PoolClient } from 'pg';
import type { StoredEvent } from '../schema/stored-event';
import { streamStatement } from './engine/events';
import { asyncReads, forwardReads, type Reads } from './engine/reads';
import { postgresMigrations } from './migrations/postgres';
import { cleaned, pgDialect, rowsOf, streamEvents, typeParsers, warnIfNoTextIndex, type Queryable } from './postgres-dialect';
import { WRITE_LOCK_KEY, planLocks, type LockPlan } from './postgres-locks';
import { migratePostgres } from './postgres-migrate';
import { ReplicaMemory } from './postgres-mirror';
import { dayPartition, maintainPartitions, partitions, purgeBefore, retentionCut, PARTITION_LOCK_KEY, type Partition } from './postgres-partitions';
import { PgWriteTx, type LockChange, type TxMemory } from './postgres-tx';
import type { CoreStore, CoreWriteTx, EventFilter, LockKeys, LockRow, Policy } from './store';

export { WRITE_LOCK_KEY, PARTITION_LOCK_KEY, dayPartition };
export type { LockChange };
/** How often each replica checks that the coming days have their partitions. */
const MAINTENANCE_EVERY_MS = 3_600_000;
/** At most this long at open for the lock mirror and the policy to be in memory. */
const WARM_MS = 3_000;
/** Write connections per replica: the pipeline's group commit plus concurrent checks and admin writes. */
const WRITERS = 4;

export interface LockSubscription {
  /** Resolves once the listener is connected: changes committed after this are delivered. */
  ready: Promise<void>;
  close(): void;
}

/** The reads but policy and locks (answered from memory when they can) come from the engine. */
export interface PostgresStore extends Omit<Reads<false>, 'getPolicy' | 'activeLocks'> {}

export class PostgresStore implements CoreStore {
  readonly description: string;
  private closed = false;
  private readonly db: Queryable;
  private readonly reads: Reads<false>;
  private readonly txMemory: TxMemory = { lastPrune: 0, stateNamespaces: new Map() };
  private active = 0;
  private drained: (() => void)[] = [];
  private readonly memory: ReplicaMemory;
  private maintenance: NodeJS.Timeout | null = null;

  private constructor(
    /** Reads and exports. */
    private readonly pool: pg.Pool,
    /** Write transactions. */
    private readonly writer: pg.Pool,
    url: string,
  ) {
    this.description = redactUrl(url);
    this.db = cleaned(pool);
    this.reads = asyncReads(pgDialect, rowsOf(this.db));
    this.memory = new ReplicaMemory(url, this.db);
    forwardReads(this, (op, args) => (this.reads[op] as (...a: unknown[]) => Promise<unknown>)(...args));
  }

  /** Connects, migrates (under an advisory lock), creates the coming days' partitions. */
  static async open(url: string, options: { max?: number; writers?: number } = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types: typeParsers });
    const writer = new pg.Pool({ connectionString: url, max: options.writers ?? WRITERS, types: typeParsers });
    // An idle client losing its server must not crash the process; the next query reconnects.
    for (const p of [pool, writer]) p.on('error', () => undefined);
    let store: PostgresStore;
    try {
      await migratePostgres(writer, postgresMigrations);
      // Once, in the collector's log, when pg_trgm was not available to migration 4.
      await warnIfNoTextIndex(cleaned(pool));
      store = new PostgresStore(pool, writer, url);
      await store.maintainPartitions();
    } catch (e) {
      await Promise.all([pool.end(), writer.end()]);
      throw e;
    }
    // Bounded: a slow database delays the start by at most this; the database answers meanwhile.
    await store.memory.warm(() => store.reads.getPolicy(), WARM_MS);
    store.maintenance = setInterval(() => void store.maintainPartitions().catch(() => undefined), MAINTENANCE_EVERY_MS);
    store.maintenance.unref();
    return store;
  }

  /** Thrown out of a keys-only transaction that read beyond its plan: rolled back, run again (write). */
  private static readonly RERUN = new Error('keys-only transaction needs its stripes');

  async write<T>(fn: (tx: CoreWriteTx) => Promise<T>, keys?: LockKeys): Promise<T> {
    const first = await this.writeWith(fn, planLocks(keys));
    if (first.done) return first.result;
    // A keys-only transaction read beyond its plan (it was rolled back): again, as any writer.
    const again = await this.writeWith(fn, planLocks(keys && { ...keys, keysOnly: false }));
    if (!again.done) throw new Error('store: write needed more than its locks');
    return again.result;
  }

  private async writeWith<T>(fn: (tx: CoreWriteTx) => Promise<T>, plan: LockPlan): Promise<{ done: true; result: T } | { done: false }> {
    let tx: PgWriteTx | undefined;
    const rerun = PostgresStore.RERUN;
    try {
      const result = await this.transaction(plan, async (client) => {
        tx = new PgWriteTx(client, plan, this.txMemory);
        let r: T;
        try {
          r = await fn(tx);
        } catch (e) {
          throw tx.needsStripes ? rerun : e;
        }
        // Even when fn caught the refusal (a reservation in its savepoint): its answers are not sound.
        if (tx.needsStripes) throw rerun;
        await tx.finish();
        return r;
      });
      this.memory.committed(tx!.lockChanges, tx!.policyChanged);
      return { done: true, result };
    } catch (e) {
      if (e === rerun) return { done: false };
      throw e;
    }
  }

  /** One write transaction on a writer connection, holding the write lock (shared when keyed). */
  private async transaction<T>(plan: LockPlan, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('store is closed');
    this.active++;
    let c: PoolClient | undefined;
    let broken: Error | undefined;
    try {
      c = await this.writer.connect();
      // READ COMMITTED (the default): each statement sees everything committed before it, so once
      // a lock is granted we read what the previous holder (any replica) wrote.
      await c.query(`BEGIN; SELECT ${plan.exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(${WRITE_LOCK_KEY})`);
      try {
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (e) {
        await c.query('ROLLBACK').catch((err: Error) => (broken = err));
        throw e;
      }
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: drop it rather than reuse it.
      c?.release(broken);
      if (--this.active === 0) for (const done of this.drained.splice(0)) done();
    }
  }

  /**
   * Listens for lock changes made on any replica (this one included), delivered as each commits.
   * After a lost connection the listener reconnects and sends a resync: reload the locks then.
   */
  onLockChange(listener: (c: LockChange) => void): LockSubscription {
    return this.memory.onLockChange(listener);
  }

  /** Today's and the coming days' partitions (postgres-partitions.ts); returns those it created. */
  async maintainPartitions(now = Date.now()): Promise<string[]> {
    return maintainPartitions(this.writer, now);
  }

  /** Day partitions, oldest first. */
  async partitions(): Promise<Partition[]> {
    return partitions(this.db);
  }

  /** Retention cuts at a partition boundary here, so it drops whole days (retention.ts). */
  retentionCut(before: number): number {
    return retentionCut(before);
  }

  async getOrCreateMeta(key: string, make: () => string): Promise<string> {
    return this.transaction(planLocks(undefined), async (client) => {
      const c = cleaned(client);
      await c.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, make()]);
      return (await c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])).rows[0].value;
    });
  }

  async getPolicy(): Promise<Policy> {
    return this.memory.policy(() => this.reads.getPolicy());
  }

  /**
   * The locks in force for /v1/check: from this replica's mirror of every lock in force, kept
   * current by the notifications of every replica (its own commits at once); read from the
   * database while the mirror is not loaded or the notifications are not flowing.
   */
  async activeLocks(user: string | null, ip: string | null, now: number): Promise<LockRow[]> {
    return this.memory.locksFor(user, ip, now) ?? this.reads.activeLocks(user, ip, now);
  }

  async *streamEvents(filter: EventFilter, order: 'asc' | 'desc'): AsyncIterable<StoredEvent> {
    yield* streamEvents(this.pool, streamStatement(pgDialect, filter, order));
  }

  async purgeEventsBefore(before: number): Promise<number> {
    return this.transaction(planLocks(undefined), (client) => purgeBefore(cleaned(client), before));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.maintenance) clearInterval(this.maintenance);
    this.memory.close();
    if (this.active > 0) await new Promise<void>((r) => this.drained.push(r));
    await Promise.all([this.pool.end(), this.writer.end()]);
  }
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
