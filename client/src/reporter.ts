// Background delivery of reported events: gathered into batches, POSTed to /v1/events, retried with
// exponential backoff while the collector is unreachable. What the collector refuses (4xx) is dropped
// and counted, and a batch it keeps failing on (5xx) is split until the one event it fails on is
// found and dropped, so one bad event can never stop the events behind it. The queue is bounded; when it is full the
// oldest event is dropped and counted, so a long collector outage costs memory only up to maxQueue
// and never slows the application. Every event carries an id, so a retry of a batch the collector
// already stored is reported back as duplicates instead of stored twice.

import { randomUUID } from 'node:crypto';
import { ExponentialBackoff, halfJitterGenerator, type IBackoff } from 'cockatiel';
import { requestJson } from './http';
import type { AuthwatchEvent, ReporterStats } from './types';

export interface ReporterOptions {
  baseUrl: string;
  key?: string;
  service?: string;
  batchSize: number;
  flushIntervalMs: number;
  maxQueue: number;
  sendTimeoutMs: number;
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  /** 5xx answers to one batch before it is split (or, alone, dropped). */
  maxServerErrorRetries: number;
  onError: (err: Error) => void;
}

type SendResult = 'done' | 'retry';

interface IngestAccepted {
  accepted?: number;
  duplicates?: number;
}

interface IngestRejected {
  error?: string;
  details?: Array<{ index?: number; path?: string; message?: string }>;
}

export class EventReporter {
  private queue: AuthwatchEvent[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private backingOff = false;
  private sending = false;
  /** Exponential backoff with equal jitter (cockatiel's, as the collector's senders use). */
  private readonly retryPolicy: ExponentialBackoff<number>;
  /** The delay before the next retry, advanced on each failure in a row; undefined after a success. */
  private backoff: IBackoff<unknown> | undefined;
  private batchLimit: number;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private counters = { delivered: 0, duplicates: 0, dropped: 0, rejected: 0, retries: 0 };
  /** 5xx answers in a row to the batch at the head of the queue. */
  private serverErrors = 0;
  /** Splitting batches to find an event the collector fails on: one try per half. */
  private bisecting = false;
  /** Refusals already reported through onError (one message per kind, not one per batch). */
  private readonly reported = new Set<string>();

  constructor(private readonly opts: ReporterOptions) {
    this.batchLimit = opts.batchSize;
    // Jitter spreads the retries of many app instances after a collector restart.
    this.retryPolicy = new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: opts.minRetryDelayMs, maxDelay: opts.maxRetryDelayMs });
  }

  /** Queues one event; returns at once. Events reported after close() are dropped and counted. */
  enqueue(event: AuthwatchEvent): void {
    if (this.closed) {
      this.counters.dropped += 1;
      this.opts.onError(new Error('authwatch client is closed; event dropped'));
      return;
    }
    const stamped: AuthwatchEvent = {
      ...event,
      id: event.id ?? randomUUID(),
      time: event.time ?? Date.now(),
      service: event.service ?? this.opts.service,
    };
    if (stamped.service === undefined) delete stamped.service;
    this.queue.push(stamped);
    this.trim();
    this.schedule(this.opts.flushIntervalMs);
  }

  stats(): ReporterStats {
    return { queued: this.queue.length, inFlight: this.inFlight, ...this.counters };
  }

  /**
   * Sends what is queued now and resolves true once nothing is queued or in flight, or false when
   * timeoutMs passes first (the events stay queued and keep being retried).
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    if (this.isIdle()) return true;
    if (!this.backingOff && !this.sending) {
      this.clearTimer();
      void this.pump();
    }
    return new Promise<boolean>((resolve) => {
      const timeout = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(false);
      }, timeoutMs);
      const onIdle = (): void => {
        clearTimeout(timeout);
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  /** Stops accepting events, tries to deliver the rest within timeoutMs, then stops retrying. */
  async close(timeoutMs = 5_000): Promise<boolean> {
    this.closed = true;
    const drained = await this.flush(timeoutMs);
    this.clearTimer();
    return drained;
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  private trim(): void {
    const excess = this.queue.length - this.opts.maxQueue;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.counters.dropped += excess;
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.backingOff = false;
  }

  private schedule(delayMs: number, backoff = false): void {
    if (this.timer || this.sending) return;
    this.backingOff = backoff;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.backingOff = false;
      void this.pump();
    }, delayMs);
    // A pending delivery never keeps the host process alive; close() is how an app waits for it.
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    let retry = false;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.batchLimit);
        this.inFlight = batch.length;
        const result = await this.send(batch);
        this.inFlight = 0;
        if (result === 'retry') {
          this.queue.unshift(...batch);
          this.trim();
          retry = true;
          break;
        }
      }
    } finally {
      this.sending = false;
      this.inFlight = 0;
    }
    if (retry) {
      if (this.closed && this.idleWaiters.length === 0) return;
      this.counters.retries += 1;
      this.backoff = this.backoff ? this.backoff.next(undefined) : this.retryPolicy.next();
      this.schedule(this.backoff.duration, true);
      return;
    }
    this.backoff = undefined;
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** One POST. 'retry' puts the whole batch back; 'done' means every event was settled. */
  private async send(batch: AuthwatchEvent[]): Promise<SendResult> {
    let status: number;
    let body: unknown;
    try {
      ({ status, body } = await requestJson(this.opts.baseUrl, 'v1/events', {
        method: 'POST',
        key: this.opts.key,
        body: batch,
        timeoutMs: this.opts.sendTimeoutMs,
      }));
    } catch (err) {
      this.opts.onError(err as Error);
      return 'retry';
    }
    if (status >= 500) return this.serverError(batch, status);
    this.serverErrors = 0;
    if (status === 202 || status === 200) {
      const ack = (body ?? {}) as IngestAccepted;
      this.counters.delivered += batch.length;
      this.counters.duplicates += ack.duplicates ?? 0;
      if (!this.bisecting || this.queue.length === 0) {
        this.bisecting = false;
        this.batchLimit = this.opts.batchSize;
      }
      return 'done';
    }
    if (status === 400) return this.settleInvalid(batch, body as IngestRejected);
    if (status === 413 && batch.length > 1) {
      // Too large as one request: send it in halves.
      this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
      this.queue.unshift(...batch);
      return 'done';
    }
    if (status === 408 || status === 429) {
      this.opts.onError(new Error(`authwatch collector answered HTTP ${status}; will retry`));
      return 'retry';
    }
    // Any other 4xx (wrong key or role, 413 for a single event, 415…) will not get better by
    // retrying: drop, count, say so once per kind.
    this.counters.rejected += batch.length;
    this.reportOnce(`http-${status}`, `authwatch collector refused ${batch.length} event(s) with HTTP ${status}: ${(body as IngestRejected | null)?.error ?? ''}; dropped (counted in stats().rejected)`);
    return 'done';
  }

  /** The collector is up but fails on this batch: retry a few times, then split it, then drop the one event. */
  private serverError(batch: AuthwatchEvent[], status: number): SendResult {
    this.serverErrors += 1;
    if (!this.bisecting && this.serverErrors < this.opts.maxServerErrorRetries) {
      this.opts.onError(new Error(`authwatch collector answered HTTP ${status}; will retry`));
      return 'retry';
    }
    this.serverErrors = 0;
    if (batch.length > 1) {
      this.bisecting = true;
      this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
      this.queue.unshift(...batch);
      return 'done';
    }
    this.counters.rejected += 1;
    this.bisecting = false;
    this.batchLimit = this.opts.batchSize;
    this.reportOnce(`http-${status}-poison`, `authwatch collector failed ${this.opts.maxServerErrorRetries} times (HTTP ${status}) on one event; dropped it so later events flow (counted in stats().rejected)`);
    return 'done';
  }

  private reportOnce(kind: string, message: string): void {
    if (this.reported.has(kind)) return;
    this.reported.add(kind);
    this.opts.onError(new Error(message));
  }

  /** A 400 stores nothing: drop the events it names and send the rest again right away. */
  private settleInvalid(batch: AuthwatchEvent[], body: IngestRejected): SendResult {
    const bad = new Set<number>();
    for (const d of body?.details ?? []) {
      if (typeof d.index === 'number' && d.index >= 0 && d.index < batch.length) bad.add(d.index);
    }
    const message = body?.details?.map((d) => `[${d.index}] ${d.path}: ${d.message}`).join('; ') ?? body?.error;
    if (bad.size === 0) {
      this.counters.rejected += batch.length;
      this.opts.onError(new Error(`authwatch collector refused a batch of ${batch.length}: ${message ?? 'HTTP 400'}`));
      return 'done';
    }
    this.counters.rejected += bad.size;
    this.opts.onError(new Error(`authwatch collector refused ${bad.size} event(s): ${message}`));
    const rest = batch.filter((_, i) => !bad.has(i));
    this.queue.unshift(...rest);
    return 'done';
  }
}
