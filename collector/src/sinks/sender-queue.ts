// The queue-and-retry helper of the collector's notification senders (webhook, e-mail), in the
// spirit of the OpenTelemetry Collector's exporterhelper: a bounded queue, a number of concurrent
// sends, exponential backoff with "equal jitter" between attempts, a last attempt after which an
// item is given up and counted, and a close() that delivers what it can within a bound. The backoff
// policy is cockatiel's, the one the auth.log shipper and the client reporter use too.
import { ExponentialBackoff, halfJitterGenerator, type IBackoff } from 'cockatiel';
import type { Logger } from '../log';

/** What one send attempt says: delivered, worth another try, or final. */
export type SendResult = { ok: true } | { ok: false; retry: boolean; error: string };

export interface SenderQueueOptions<T> {
  /** For log lines. */
  name: string;
  send(item: T, attempt: number, signal: AbortSignal): Promise<SendResult>;
  /** Attempts per item, the first included. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Items queued, in flight or waiting to retry; more are dropped and counted. */
  queueSize: number;
  /** Sends at once. */
  concurrency: number;
  /**
   * true: a retry holds the whole queue until it is due (one server that is down: keep the order,
   * don't hammer it). false: others go on while an item waits for its retry.
   */
  ordered: boolean;
  log: Logger;
}

export interface SenderStats {
  delivered: number;
  retried: number;
  /** Given up: final refusal, attempts exhausted, or retry pending at shutdown. */
  failed: number;
  /** Not accepted (queue full), or still queued when shutdown stopped waiting. */
  dropped: number;
  /** Queued, in flight or waiting to retry. */
  queued: number;
}

export interface SenderQueue<T> {
  /** false when the queue is full or closed (the item is counted as dropped). */
  enqueue(item: T): boolean;
  stats(): SenderStats;
  /** Resolves when nothing is queued, in flight or waiting to retry. */
  idle(): Promise<void>;
  /** Stops retrying, delivers what is queued or in flight within timeoutMs, then aborts the rest. */
  close(timeoutMs: number): Promise<void>;
}

/** Exponential backoff from baseMs, doubling up to maxMs, each delay drawn from [delay/2, delay). */
export const equalJitterBackoff = (baseMs: number, maxMs: number) =>
  new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: baseMs, maxDelay: maxMs });

interface Entry<T> {
  item: T;
  attempt: number;
  /** The delay before this item's next retry (advanced on each failure). */
  backoff?: IBackoff<unknown>;
}

export function createSenderQueue<T>(o: SenderQueueOptions<T>): SenderQueue<T> {
  const policy = equalJitterBackoff(o.retryBaseMs, o.retryMaxMs);
  const queue: Entry<T>[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let closed = false;
  const shutdown = new AbortController();
  const waiters: (() => void)[] = [];
  const s = { delivered: 0, retried: 0, failed: 0, dropped: 0 };

  const pending = () => queue.length + inFlight + timers.size;
  const settle = () => {
    if (pending() === 0) for (const w of waiters.splice(0)) w();
  };

  function pump(): void {
    if (o.ordered && timers.size) return;
    while (inFlight < o.concurrency && queue.length) {
      const entry = queue.shift()!;
      inFlight++;
      void attempt(entry).finally(() => {
        inFlight--;
        pump();
        settle();
      });
    }
  }

  async function attempt(entry: Entry<T>): Promise<void> {
    entry.attempt++;
    let r: SendResult;
    try {
      r = await o.send(entry.item, entry.attempt, shutdown.signal);
    } catch (err) {
      r = { ok: false, retry: true, error: String((err as Error)?.message ?? err) };
    }
    if (r.ok) {
      s.delivered++;
      return;
    }
    if (!r.retry || entry.attempt >= o.maxAttempts || closed) {
      s.failed++;
      o.log.warn(`${o.name} delivery given up`, { attempts: entry.attempt, error: r.error, retryable: r.retry });
      return;
    }
    s.retried++;
    entry.backoff = entry.backoff ? entry.backoff.next(undefined) : policy.next();
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) {
        s.failed++;
        settle();
        return;
      }
      queue.unshift(entry);
      pump();
    }, entry.backoff.duration);
    timers.add(timer);
  }

  return {
    enqueue(item) {
      if (closed || pending() >= o.queueSize) {
        s.dropped++;
        return false;
      }
      queue.push({ item, attempt: 0 });
      pump();
      return true;
    },
    stats: () => ({ ...s, queued: pending() }),
    idle: () => (pending() === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    async close(timeoutMs) {
      closed = true;
      for (const t of timers) clearTimeout(t);
      s.failed += timers.size;
      timers.clear();
      pump();
      if (pending() > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
        clearTimeout(timer);
      }
      s.dropped += queue.length; // still queued when shutdown stopped waiting
      queue.length = 0;
      if (inFlight > 0) {
        shutdown.abort();
        await new Promise<void>((r) => waiters.push(r)); // aborted sends settle at once
      }
    },
  };
}
