// Webhook notifications: one JSON POST per notifying event, signed with HMAC-SHA256 over the raw
// body (X-Authwatch-Signature: sha256=<hex>). The body carries a timestamp and a delivery id
// (mirrored in X-Authwatch-Timestamp / X-Authwatch-Delivery), both covered by the signature, so a
// receiver rejects stale or repeated deliveries. Failed deliveries (network error, 408, 429, 5xx)
// are retried with exponential backoff and jitter; after the last attempt the delivery is given up,
// logged and counted. The queue is bounded: when full, new notifications are dropped and counted.
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { Sink } from '../pipeline/contracts';
import type { StoredEvent } from '../schema/stored-event';
import { matchesRule, notificationEvent, summary, Throttle } from './notify-rules';
import { createSenderQueue, type SendResult } from './sender-queue';

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
}

const RETRYABLE = (status: number) => status === 408 || status === 429 || status >= 500;

export function createWebhookSink(o: WebhookOptions): WebhookSink {
  const clock = o.clock ?? Date.now;
  const queue = createSenderQueue<Delivery>({
    name: 'webhook',
    maxAttempts: o.maxAttempts,
    retryBaseMs: o.retryBaseMs,
    retryMaxMs: o.retryMaxMs,
    queueSize: o.queueSize,
    concurrency: o.concurrency,
    ordered: false,
    log: o.log,
    async send(d, attempt, shutdown): Promise<SendResult> {
      try {
        const res = await fetch(o.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'authwatch-webhook/1',
            'x-authwatch-delivery': d.id,
            'x-authwatch-timestamp': String(d.timestamp),
            'x-authwatch-attempt': String(attempt),
            ...(o.secret ? { 'x-authwatch-signature': signBody(o.secret, d.body) } : {}),
          },
          body: d.body,
          signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs), shutdown]),
        });
        await res.body?.cancel().catch(() => undefined);
        return res.ok ? { ok: true } : { ok: false, retry: RETRYABLE(res.status), error: `HTTP ${res.status}` };
      } catch (err) {
        const error = (err as Error).name === 'TimeoutError' ? `timeout after ${o.timeoutMs} ms` : String((err as Error).message ?? err);
        return { ok: false, retry: true, error };
      }
    },
  });

  return {
    name: 'webhook',
    write(events: readonly StoredEvent[]): void {
      for (const e of events) {
        if (!matchesRule(o.notifyOn, e)) continue;
        const n = notificationEvent(e);
        if (!o.throttle.take(e.user, n.kind, clock())) continue;
        const id = randomUUID();
        const timestamp = Math.floor(clock() / 1000);
        queue.enqueue({ id, timestamp, body: JSON.stringify({ delivery_id: id, timestamp, text: summary(n), event: n }) });
      }
    },
    stats: () => ({ ...queue.stats(), throttled: o.throttle.throttled }),
    idle: () => queue.idle(),
    // Deliver what is queued or in flight (bounded by the request timeout); drop pending retries.
    close: () => queue.close(o.timeoutMs),
  };
}
