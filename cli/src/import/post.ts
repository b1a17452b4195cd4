// Batches to POST /v1/events. The collector validates a batch whole: a 400 lists the bad events
// by index (details), which are counted as refused and the rest is sent again. Connection
// failures, 5xx, 429 and 503 are retried with exponential backoff (cockatiel, the retry policy of every Authwatch sender); 401/403
// end the import (no key will appear by retrying).
import { ExponentialBackoff, fullJitterGenerator, handleType, retry } from 'cockatiel';
import { CliError, EXIT, httpError, send, type Connection } from '../api';
import type { ImportEvent } from './convert';

const MAX_BODY_BYTES = 5 * 1024 * 1024;

class Retryable extends Error {}

/** 6 tries, 300 ms doubling to 10 s apart, full jitter. */
const RETRY = retry(handleType(Retryable), { maxAttempts: 5, backoff: new ExponentialBackoff({ initialDelay: 300, maxDelay: 10_000, generator: fullJitterGenerator }) });

export class Poster {
  accepted = 0;
  duplicates = 0;
  rejected = 0;
  /** The first few reasons for refused events. */
  readonly errors: string[] = [];
  private pending: ImportEvent[] = [];
  /** Events sent so far (for "event N" in messages). */
  private sent = 0;

  constructor(
    private readonly conn: Connection,
    private readonly batch: number,
  ) {}

  refuse(reason: string): void {
    this.rejected++;
    if (this.errors.length < 5) this.errors.push(reason);
  }

  async add(events: ImportEvent[]): Promise<void> {
    for (const e of events) {
      this.pending.push(e);
      if (this.pending.length >= this.batch) await this.flush();
    }
  }

  async flush(): Promise<void> {
    const events = this.pending;
    this.pending = [];
    if (events.length) await this.post(events, this.sent);
    this.sent += events.length;
  }

  private async post(events: ImportEvent[], offset: number): Promise<void> {
    let body = JSON.stringify(events);
    if (Buffer.byteLength(body) > MAX_BODY_BYTES && events.length > 1) {
      // Over the collector's 5 MB: halve.
      const half = Math.ceil(events.length / 2);
      await this.post(events.slice(0, half), offset);
      await this.post(events.slice(half), offset + half);
      return;
    }
    let batch = events;
    for (;;) {
      const res = await RETRY.execute(
        async () => {
          let r: Response;
          try {
            r = await send(this.conn, 'POST', '/v1/events', { role: 'ingest', body: batch });
          } catch (e) {
            if (e instanceof CliError && e.exitCode === EXIT.CONNECT) throw new Retryable(e.message);
            throw e;
          }
          if (r.status >= 500 || r.status === 429) {
            await r.text().catch(() => undefined);
            throw new Retryable(`the collector answered HTTP ${r.status}`);
          }
          return r;
        },
      ).catch((e: unknown) => {
        if (e instanceof Retryable) throw new CliError(`import: ${e.message} (gave up after 6 tries)`, /HTTP/.test(e.message) ? EXIT.ERROR : EXIT.CONNECT);
        throw e;
      });
      if (res.status === 202) {
        const r = (await res.json()) as { accepted: number; duplicates: number };
        this.accepted += r.accepted;
        this.duplicates += r.duplicates;
        return;
      }
      if (res.status !== 400) throw await httpError(res, 'import: POST /v1/events');
      const answer = (await res.json().catch(() => ({}))) as { error?: string; details?: Array<{ index?: number; path?: string; message?: string }> };
      const bad = new Set((answer.details ?? []).map((d) => d.index).filter((i): i is number => typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < batch.length));
      if (!bad.size) {
        // Nothing to single out: the whole batch is refused.
        for (let i = 0; i < batch.length; i++) this.refuse(`event ${offset + i + 1}: ${answer.error ?? 'refused'}`);
        return;
      }
      for (const d of answer.details ?? []) {
        if (d.index !== undefined && bad.has(d.index) && this.errors.length < 5) this.errors.push(`event ${offset + d.index + 1}: ${d.path ? `${d.path}: ` : ''}${d.message ?? answer.error}`);
      }
      this.rejected += bad.size;
      batch = batch.filter((_, i) => !bad.has(i));
      if (!batch.length) return;
    }
  }
}
