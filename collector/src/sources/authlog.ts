// auth.log source: lines (authlog-follow when following a file, authlog-input otherwise: plain,
// gzip or stdin) → parsed events, one per attempt (authlog-parse) → batches of up to 1,000 lines
// (10,000 for a file imported in-process, authlog-cli.ts) or 200 ms → validated like POST
// /v1/events → either this collector's pipeline (in-process, the default) or a remote collector's
// POST /v1/events (shipper mode, authlog-shipper.ts). The same batching and parsing serve both.
import type { Readable } from 'node:stream';
import type { Logger } from '../log';
import type { Pipeline } from '../pipeline/runner';
import { MAX_BATCH_EVENTS, type IngestEvent } from '../schema/event';
import { followFile } from './authlog-follow';
import { AuthLogInputError, readLineChunks, sniffFile } from './authlog-input';
import { createAuthLogParser, type AuthLogMode, type AuthLogParser } from './authlog-parse';
import type { TimeZoneOption } from './authlog-time';

export interface AuthLogStats {
  lines: number;
  events: number;
  accepted: number;
  duplicates: number;
  /** Parsed events the validation refused (logged, never stored). */
  rejected: number;
}

/**
 * Where batches go: resolves once they are durable. A sink that keeps order by itself calls
 * `queued` once the batch holds its place (the pipeline's queue): the next batch may then be sent
 * while this one commits. One that never calls it gets one batch at a time.
 */
export type EventSink = (events: IngestEvent[], queued?: () => void) => Promise<{ accepted: number; duplicates: number; rejected: number }>;

/** Batches a sink may hold at once when it says they are queued in order. */
const IN_FLIGHT = 3;

/** In-process: validate (session ids hashed, as for HTTP) and run the pipeline. */
export function pipelineSink(pipeline: Pipeline): EventSink {
  return async (events, queued) => {
    // A log source cannot send a line back: keep the valid events, count the rest (the pipeline's
    // validation stage counts them in authwatch_events_rejected_total too).
    const r = await pipeline.submit(events, { keepValid: true, queued });
    return r.ok ? { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected } : { accepted: 0, duplicates: 0, rejected: events.length };
  };
}

export interface AuthLogBatcherOptions {
  sink: EventSink;
  timezone?: TimeZoneOption;
  now?: () => number;
  /** fail2ban-like mode (default normal). */
  mode?: AuthLogMode;
  /** Only journalctl -o json lines. */
  journal?: boolean;
  /** Live input: attempts of connections quiet this long (wall clock) are sent without waiting for their next line. */
  idleMs?: number;
  /** Lines per batch (default 1,000). */
  maxLines?: number;
  /** Longest a line waits for its batch (default 200 ms). */
  maxWaitMs?: number;
  log?: Logger;
}

/** Collects lines into batches; push() waits when a batch is full (back-pressure for the reader). */
export class AuthLogBatcher {
  readonly stats: AuthLogStats = { lines: 0, events: 0, accepted: 0, duplicates: 0, rejected: 0 };
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Batches handed to the sink and not yet durable, in order. */
  private inFlight: Promise<void>[] = [];
  private failure: unknown = null;
  private idleTimer: NodeJS.Timeout | null = null;
  readonly parse: AuthLogParser;
  private readonly maxLines: number;
  private readonly maxWaitMs: number;

  constructor(private readonly opts: AuthLogBatcherOptions) {
    this.parse = createAuthLogParser({ timezone: opts.timezone, now: opts.now, mode: opts.mode, journal: opts.journal });
    this.maxLines = opts.maxLines ?? 1000;
    this.maxWaitMs = opts.maxWaitMs ?? 200;
    if (opts.idleMs !== undefined) {
      const idle = opts.idleMs;
      this.idleTimer = setInterval(() => {
        this.chain = this.chain.then(() => this.sendEvents(this.parse.expireIdle(Date.now(), idle)));
        void this.chain.catch(() => undefined);
      }, Math.max(50, Math.floor(idle / 2)));
      this.idleTimer.unref();
    }
  }

  async push(lines: string[]): Promise<void> {
    if (this.failure) throw this.failure;
    for (const line of lines) {
      this.pending.push(line);
      // Back-pressure: wait until the batch is handed over (at most IN_FLIGHT not yet durable).
      if (this.pending.length >= this.maxLines) await this.handOver();
    }
    if (this.pending.length && !this.timer) this.timer = setTimeout(() => void this.flush().catch(() => undefined), this.maxWaitMs);
  }

  /** Sends what is pending; resolves when every batch so far is durable. */
  flush(): Promise<void> {
    return this.handOver(true);
  }

  /** Hands what is pending to the sink; `durable`: and waits until every batch so far is stored. */
  private handOver(durable = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const lines = this.pending;
    this.pending = [];
    if (lines.length) this.chain = this.chain.then(() => this.send(lines));
    if (durable) this.chain = this.chain.then(() => this.settled());
    return this.chain.catch((err: unknown) => {
      this.failure ??= err;
      throw err;
    });
  }

  /** End of input: sends what is pending and every attempt still open; resolves when durable. */
  async finish(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    await this.flush();
    this.chain = this.chain.then(() => this.sendEvents(this.parse.flush()));
    await this.flush();
    const p = this.parse.stats;
    if (p.badTime) this.opts.log?.warn('authlog: lines skipped: dated 5 minutes to a day ahead of this clock (wrong --authlog-tz, or a clock off?)', { lines: p.badTime });
    if (p.malformed) this.opts.log?.warn('authlog: lines skipped: not journalctl -o json objects', { lines: p.malformed });
  }

  private async send(lines: string[]): Promise<void> {
    const events: IngestEvent[] = [];
    for (const line of lines) {
      const evs = this.parse(line);
      if (evs) for (const e of evs) events.push(e);
    }
    this.stats.lines += lines.length;
    await this.sendEvents(events);
  }

  private async sendEvents(events: IngestEvent[]): Promise<void> {
    this.stats.events += events.length;
    for (let i = 0; i < events.length; i += MAX_BATCH_EVENTS) {
      let onQueued!: () => void;
      const queued = new Promise<void>((r) => (onQueued = r));
      const done = this.opts.sink(events.slice(i, i + MAX_BATCH_EVENTS), onQueued).then((r) => {
        this.stats.accepted += r.accepted;
        this.stats.duplicates += r.duplicates;
        this.stats.rejected += r.rejected;
        if (r.rejected) this.opts.log?.warn('authlog: events refused by validation', { rejected: r.rejected });
      });
      this.inFlight.push(done);
      // The next batch goes once this one holds its place in order (or is done), so lines are
      // counted in the order they were written while parsing and validation overlap a commit.
      await Promise.race([queued, done]);
      while (this.inFlight.length >= IN_FLIGHT) await this.inFlight.shift();
    }
  }

  /** Every batch sent so far is durable (or the first failure). */
  private async settled(): Promise<void> {
    while (this.inFlight.length) await this.inFlight.shift();
  }

}

export interface AuthLogSourceOptions extends Omit<AuthLogBatcherOptions, 'sink'> {
  /** A file path, or "-" for stdin. */
  path: string;
  follow: boolean;
  fromStart: boolean;
  sink: EventSink;
  signal?: AbortSignal;
  stdin?: Readable;
  pollMs?: number;
  /** Following a file: called once reading starts from its end (or start); tests append after it. */
  onReady?: () => void;
}

/** Reads (and follows) an auth.log into the sink; resolves with the totals when reading ends. */
export async function runAuthLogSource(opts: AuthLogSourceOptions): Promise<AuthLogStats> {
  const following = opts.follow && opts.path !== '-';
  if (following && (await sniffFile(opts.path)) === 'gzip') throw new AuthLogInputError(`${opts.path} is gzip-compressed: --follow reads a growing plain log (import a .gz without --follow)`);
  const batcher = new AuthLogBatcher({ ...opts, idleMs: opts.follow ? (opts.idleMs ?? 10_000) : undefined });
  const onLines = (lines: string[]) => batcher.push(lines);
  try {
    if (!following) {
      for await (const lines of readLineChunks(opts.path, opts.stdin)) await onLines(lines);
    } else await followFile({
      path: opts.path,
      follow: opts.follow,
      fromStart: opts.fromStart,
      onLines,
      signal: opts.signal,
      pollMs: opts.pollMs,
      onReopen: (why) => opts.log?.info('authlog: reopened', { path: opts.path, why }),
      onReady: opts.onReady,
    });
  } catch (e) {
    // What was read before the failure is still stored.
    await batcher.finish().catch(() => undefined);
    throw e;
  }
  await batcher.finish();
  return batcher.stats;
}
