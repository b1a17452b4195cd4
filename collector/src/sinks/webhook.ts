// Webhook notifications: one JSON POST per notifying event, signed with HMAC-SHA256 over the raw
// body (X-Authwatch-Signature: sha256=<hex>). The body carries a timestamp and a delivery id
// (mirrored in X-Authwatch-Timestamp / X-Authwatch-Delivery), both covered by the signature, so a
// receiver rejects stale or repeated deliveries. Failed deliveries (network error, 408, 429, 5xx)
// are retried with exponential backoff and jitter; after the last attempt the delivery is given up,
// logged and counted. The queue is bounded: when full, new notifications are dropped and counted.
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { Sink } from '../pipeline';
import type { StoredEvent } from '../schema/stored-event';
import { matchesRule, notificationEvent, summary, Throttle, waitAtMost } from './notify-rules';

export interface WebhookOptions {
  url: string;
  secret: string | null;
  notifyOn: ReadonlySet<string>;
  throttle: Throttle;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  queueSize: number;
  concurrency: number;
  log: Logger;
  clock?: () => number;
}

export interface WebhookStats {
  delivered: number;
  retried: number;
  /** Given up after maxAttempts, or refused for good by the receiver (4xx). */
  failed: number;
  /** Not queued because the queue was full. */
  dropped: number;
  throttled: number;
  queued: number;
}

export interface WebhookSink extends Sink {
  stats(): WebhookStats;
  /** Resolves when the queue is empty and nothing is in flight (tests, shutdown). */
  idle(): Promise<void>;
}

export function signBody(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

interface Delivery {
  id: string;
  timestamp: number;
  body: string;
  attempt: number;
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export function createWebhookSink(o: WebhookOptions): WebhookSink {
  const clock = o.clock ?? Date.now;
  const queue: Delivery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let closed = false;
  /** Aborts requests still in flight when shutdown stops waiting. */
  const shutdown = new AbortController();
  const waiters: (() => void)[] = [];
  const s = { delivered: 0, retried: 0, failed: 0, dropped: 0 };

  const pending = () => queue.length + inFlight + timers.size;
  const settle = () => {
    if (pending() === 0) for (const w of waiters.splice(0)) w();
  };

  function pump(): void {
    while (inFlight < o.concurrency && queue.length) {
      const d = queue.shift()!;
      inFlight++;
      void send(d).finally(() => {
        inFlight--;
        pump();
        settle();
      });
    }
  }

  async function send(d: Delivery): Promise<void> {
    d.attempt++;
    let status = 0;
    let error = '';
    try {
      const res = await fetch(o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'authwatch-webhook/1',
          'x-authwatch-delivery': d.id,
          'x-authwatch-timestamp': String(d.timestamp),
          'x-authwatch-attempt': String(d.attempt),
          ...(o.secret ? { 'x-authwatch-signature': signBody(o.secret, d.body) } : {}),
        },
        body: d.body,
        signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs), shutdown.signal]),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) {
        s.delivered++;
        return;
      }
      error = `HTTP ${status}`;
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? `timeout after ${o.timeoutMs} ms` : String((err as Error).message ?? err);
    }
    const retryable = status === 0 || RETRYABLE(status);
    if (!retryable || d.attempt >= o.maxAttempts || closed) {
      s.failed++;
      o.log.warn('webhook delivery given up', { delivery: d.id, attempts: d.attempt, error, retryable });
      return;
    }
    s.retried++;
    const backoff = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** (d.attempt - 1));
    const delay = backoff / 2 + Math.random() * (backoff / 2); // "equal jitter"
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) {
        s.failed++;
        settle();
        return;
      }
      queue.unshift(d);
      pump();
    }, delay);
    timers.add(timer);
  }

  return {
    name: 'webhook',
    write(events: readonly StoredEvent[]): void {
      if (closed) return;
      for (const e of events) {
        if (!matchesRule(o.notifyOn, e)) continue;
        const n = notificationEvent(e);
        if (!o.throttle.take(e.user, n.kind, clock())) continue;
        if (pending() >= o.queueSize) {
          s.dropped++;
          continue;
        }
        const id = randomUUID();
        const timestamp = Math.floor(clock() / 1000);
        const body = JSON.stringify({ delivery_id: id, timestamp, text: summary(n), event: n });
        queue.push({ id, timestamp, body, attempt: 0 });
      }
      pump();
    },
    stats: () => ({ ...s, throttled: o.throttle.throttled, queued: pending() }),
    idle: () => (pending() === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    async close(): Promise<void> {
      // Deliver what is queued or in flight (bounded by the request timeout); drop pending retries.
      closed = true;
      for (const t of timers) clearTimeout(t);
      s.failed += timers.size;
      timers.clear();
      if (pending() > 0) await waitAtMost(new Promise<void>((r) => waiters.push(r)), o.timeoutMs);
      s.dropped += queue.length; // still queued when shutdown gave up waiting
      queue.length = 0;
      if (inFlight > 0) {
        shutdown.abort();
        await new Promise<void>((r) => waiters.push(r)); // aborted requests settle at once
      }
    },
  };
}
