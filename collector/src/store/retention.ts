// Retention (AUTHWATCH_RETENTION_DAYS): events older than N days are deleted at start and then on
// a schedule (hourly by default, AUTHWATCH_RETENTION_INTERVAL_SECONDS). Unset keeps everything.
// A store whose events are partitioned (PostgreSQL: one partition per day) cuts at a partition
// boundary, so retention drops whole partitions instead of deleting rows: events are kept up to
// one day longer there. Returns a function that stops the schedule.
import { createLogger, type Logger } from '../log';
import type { Store } from './store';

export class RetentionConfigError extends Error {}

const DAY_MS = 86_400_000;

/** A store that deletes cheapest at some boundaries (PostgreSQL's day partitions). */
export interface AlignedRetention {
  /** The cut at or before `before` the store drops whole. */
  retentionCut(before: number): number;
}

function aligned(store: Store): store is Store & AlignedRetention {
  return typeof (store as Partial<AlignedRetention>).retentionCut === 'function';
}

export interface RetentionOptions {
  log?: Logger;
  clock?: () => number;
  /** Called after each purge (tests, metrics). */
  onPurge?: (deleted: number, before: number) => void;
}

/** null: keep everything. */
export type RetentionConfig = { days: number; intervalSeconds: number } | null;

export function retentionDaysFromEnv(env: NodeJS.ProcessEnv): number | null {
  const raw = env.AUTHWATCH_RETENTION_DAYS;
  if (raw === undefined || raw.trim() === '') return null;
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0) {
    throw new RetentionConfigError(`AUTHWATCH_RETENTION_DAYS=${raw}: expected a number of days > 0 (unset keeps events forever)`);
  }
  return days;
}

/** Reads and checks AUTHWATCH_RETENTION_DAYS and AUTHWATCH_RETENTION_INTERVAL_SECONDS. */
export function parseRetentionConfig(env: NodeJS.ProcessEnv): RetentionConfig {
  const days = retentionDaysFromEnv(env);
  if (days === null) return null;
  const intervalRaw = env.AUTHWATCH_RETENTION_INTERVAL_SECONDS ?? '3600';
  const intervalSeconds = Number(intervalRaw);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) {
    throw new RetentionConfigError(`AUTHWATCH_RETENTION_INTERVAL_SECONDS=${intervalRaw}: expected seconds > 0`);
  }
  return { days, intervalSeconds };
}

export function startRetention(store: Store, config: RetentionConfig, opts: RetentionOptions = {}): () => void {
  if (config === null) return () => {};
  const { days, intervalSeconds: intervalS } = config;
  const log = opts.log ?? createLogger();
  const clock = opts.clock ?? Date.now;
  let stopped = false;
  let running: Promise<void> | null = null;

  const purge = () => {
    if (stopped || running) return; // never two purges at once
    const limit = clock() - days * DAY_MS;
    const before = aligned(store) ? store.retentionCut(limit) : limit;
    running = store
      .purgeEventsBefore(before)
      .then((deleted) => {
        if (deleted > 0) log.info('retention: purged old events', { deleted, before: new Date(before).toISOString(), days });
        opts.onPurge?.(deleted, before);
      })
      .catch((err: unknown) => {
        // A closed store at shutdown, a busy database: try again next time.
        if (!stopped) log.error('retention: purge failed', { error: String(err) });
      })
      .finally(() => {
        running = null;
      });
  };

  log.info('retention: events older than the limit are purged', { days, interval_seconds: intervalS });
  const timer = setInterval(purge, intervalS * 1000);
  timer.unref();
  // First purge right after start, off the startup path.
  const first = setImmediate(purge);
  return () => {
    stopped = true;
    clearInterval(timer);
    clearImmediate(first);
  };
}
