// Runs the pipeline: validate (the first stage for every source: refusals are counted in one place)
// → enrich (sync, before the transaction) → one store transaction per group of
// batches (insert with idempotency, then processors in order, derived events stored alongside) →
// commit → callers answered → sinks get every committed event. Batches that arrive while a commit
// is in progress are committed together (group commit), each inside its own savepoint so one bad
// batch cannot undo another. The transaction's body is pipeline/group-commit.ts; a store that
// offers ingestGroup (SQLite in worker threads) runs that same body in its writer thread.
import type { Enricher, ProcessContext, Processor, Sink } from './contracts';
import { commitGroupInTx, type IngestResult, type Outcome } from './group-commit';
import { reserveInTx, type ReserveOutcome, type ReserveRequest } from './reserve-group';
import { ReserveQueue } from './reserve-queue';
import { plannedAddress } from '../schema/lock-keys';
import type { CheckAnswer } from '../decision/check';
import type { StoredEvent } from '../schema/stored-event';
import type { CoreStore, CoreWriteTx, IngestGroupResult, LockKeys } from '../store/store';
import type { Logger } from '../log';
import { MAX_BATCH_EVENTS, validateBatch, validateBatchSliced, type ValidationDetail } from '../schema/event';

export type { IngestResult };

/** A batch's outcome as the pipeline answers it (the store's, or the in-process transaction's). */
type GroupOutcome = { ok: true; result: IngestResult; made: StoredEvent[] } | { ok: false; error: unknown };

/** What submit() did with a body: stored (and how many it refused), or refused it whole. */
export type SubmitResult =
  | ({ ok: true; rejected: number } & IngestResult)
  | { ok: false; error: string; details: ValidationDetail[] };

/** The validation stage: how raw events become StoredEvents, and where refusals are counted. */
export interface ValidationStage {
  hashSessionId(raw: string): string;
  /** How far ahead of the collector's clock an event time may be (ms). */
  maxFutureMs: number;
  /** Events refused by validation (authwatch_events_rejected_total). */
  rejected(count: number): void;
}

interface Job {
  events: StoredEvent[];
  resolve(r: IngestResult): void;
  reject(e: unknown): void;
}

export interface PipelineDeps {
  /**
   * With ingestGroup (opened with the processors' configuration), group commits run whole in the
   * store and `processors`/`isolatedProcessors` below are not used for them: the store built its
   * own from the same configuration (app.ts). run() always uses write().
   */
  store: CoreStore;
  enrichers: Enricher[];
  /** Sessions and lockout: a failure here fails the batch (its counts must be exact). */
  processors: (Processor | Processor)[];
  /**
   * Pluggable processors (detections): each runs in its own savepoint; if one throws, its writes
   * and emitted events are dropped and logged, and the batch is still stored.
   */
  isolatedProcessors?: Processor[];
  sinks: Sink[];
  /** The first stage; without it only ingest() of already validated events is available. */
  validation?: ValidationStage;
  /**
   * Called synchronously right after each commit, before any caller is answered, with the events
   * the processors and admin actions made (lockouts, unlocks, detections, session ends): state that
   * decisions read (the lock cache) is never behind what a client was told is stored. A client's
   * own events never change a decision (their types cannot be lockout or unlock), so they are not
   * passed: the sinks get them.
   */
  onCommit?: (events: readonly StoredEvent[]) => void;
  /** AUTHWATCH_IP_TRUNCATE: attempt reservations key and lock addresses as the lockout counts them. */
  truncate?: boolean;
  log: Logger;
  clock?: () => number;
}

/** Events enriched between two turns of the event loop. */
const ENRICH_STEP = 250;

/**
 * Upper bound of events per group commit (a bigger batch is a group alone). An attempt check
 * waits for the group under way: with 8 connections of 1,000-event batches its p99 was 620–700 ms
 * at 20,000 and 350 ms at 2,000, at the same ingest rate (2026-11-27).
 */
const MAX_GROUP_EVENTS = 2_000;

export class Pipeline {
  private queue: Job[] = [];
  /** Resolves once the queue is empty and no group is committing (flush()). */
  private draining: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  private scheduled = false;
  private running = 0;
  /** Committed groups' events on their way to the sinks, in commit order. */
  private sinking: Promise<void> = Promise.resolve();
  private readonly parallel: number;
  private readonly clock: () => number;
  private reservations: ReserveQueue | null = null;

  constructor(private readonly deps: PipelineDeps) {
    this.clock = deps.clock ?? Date.now;
    const n = deps.store.parallelWrites ?? 1;
    this.parallel = Number.isInteger(n) && n > 1 ? n : 1;
  }

  /** The collector's clock: enforcement (windows, locks, reservations) runs on it. */
  now(): number {
    return this.clock();
  }

  /**
   * The entry for every source: validates a body (one event or an array), then ingests it.
   * All-or-nothing by default (an API client gets its 400 and resends); `keepValid` stores the
   * valid events and counts the rest (a log file cannot be sent back). `queued` is called once
   * the batch holds its place in the commit order (a source may send its next batch then);
   * `consume`: the caller gives the body up (its array may be emptied once validated).
   */
  async submit(body: unknown, opts: { keepValid?: boolean; queued?: () => void; consume?: boolean } = {}): Promise<SubmitResult> {
    const v = this.deps.validation;
    if (!v) throw new Error('pipeline: submit() needs a validation stage');
    const vopts = { now: this.clock(), hashSessionId: v.hashSessionId, maxFutureMs: v.maxFutureMs };
    const list = Array.isArray(body) ? body : [body];
    // In slices with turns of the event loop between them: /v1/check is answered meanwhile.
    let result = await validateBatchSliced(body, vopts);
    let rejected = 0;
    if (!result.ok && opts.keepValid && list.length <= MAX_BATCH_EVENTS) {
      const good = list.filter((e) => validateBatch(e, vopts).ok);
      rejected = list.length - good.length;
      result = good.length ? validateBatch(good, vopts) : { ok: true, events: [] };
    }
    if (!result.ok) {
      v.rejected(list.length);
      return { ok: false, error: result.error, details: result.details };
    }
    if (rejected) v.rejected(rejected);
    // `consume`: the body is ours (a parsed request). Its objects are not needed once validated;
    // emptied, they are not kept until the commit returns (young-generation GCs copy what lives).
    if (opts.consume && Array.isArray(body)) body.length = 0;
    const r = result.events.length ? await this.ingest(result.events, opts.queued) : { accepted: 0, duplicates: 0 };
    return { ok: true, rejected, ...r };
  }

  /** Enriches, stores and processes one validated batch; resolves after the commit. */
  async ingest(events: StoredEvent[], queued?: () => void): Promise<IngestResult> {
    // A turn of the event loop every ENRICH_STEP events (a new address or user agent costs a
    // lookup). A batch smaller than that is queued in the same turn it arrived in.
    let step = 0;
    for (const enricher of this.deps.enrichers) {
      // Data still loading (ASN tables after a start): wait for it with the event loop free.
      const loading = enricher.prepare?.(events);
      if (loading) await loading.catch(() => undefined);
    }
    for (const enricher of this.deps.enrichers) {
      for (const e of events) {
        if (++step === ENRICH_STEP) {
          step = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
        try {
          enricher.enrich(e);
        } catch (err) {
          // Enrichment is best effort: an event without geo data beats a lost event.
          this.deps.log.warn('enricher failed', { enricher: enricher.name, error: String(err) });
        }
      }
    }
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      queued?.();
      this.schedule();
    });
  }

  /** On the next turn: batches that arrive in the same turn are committed together. */
  private schedule(): void {
    this.draining ??= new Promise<void>((done) => (this.drained = done));
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * Runs fn in one write transaction with a processor context (admin actions, the idle sweep);
   * events it emits are stored in the same transaction and sent to the sinks after the commit.
   * `keys`: the users, addresses and sessions fn touches (see LockKeys): on PostgreSQL it then
   * runs in parallel with writes for other keys instead of serialised against every writer.
   */
  async run<T>(fn: (ctx: ProcessContext) => Promise<T>, keys?: LockKeys): Promise<T> {
    const emitted: StoredEvent[] = [];
    const result = await this.deps.store.write(async (tx) => {
      const ctx = await this.context(tx, (e) => emitted.push(e));
      const r = await fn(ctx);
      if (emitted.length) await tx.insertEvents(emitted);
      return r;
    }, keys);
    this.committed(emitted);
    this.toSinks(emitted);
    return result;
  }

  /**
   * One attempt reservation (`/v1/check` with "attempt": true), committed before the answer. A
   * store that runs reservations itself (the SQLite writer thread) takes them ahead of the group
   * commits it has queued; otherwise it goes with the reservations waiting meanwhile into one write
   * transaction holding only their users' and addresses' locks (PostgreSQL).
   */
  async reserveAttempt(r: ReserveRequest): Promise<CheckAnswer> {
    const store = this.deps.store;
    const truncate = this.deps.truncate ?? false;
    let a: ReserveOutcome | undefined;
    if (store.reserveAttempts) {
      const res = await store.reserveAttempts({ reservations: [r], now: this.clock() });
      this.reserved(res.emitted);
      a = res.answers[0];
    } else {
      // Grouped while others are written; each group one transaction holding its users' and
      // addresses' own locks, not the stripes a batch holds (LockKeys.keysOnly). A lone
      // reservation: an error fails it, there is nothing to isolate it from.
      this.reservations ??= new ReserveQueue(async (group) => {
        const keys = { users: group.map((g) => g.user), ips: group.map((g) => g.ip && plannedAddress(g.ip, truncate)), keysOnly: true };
        const res = await store.write((tx) => reserveInTx(tx, { reservations: group, now: this.clock() }, truncate, group.length > 1), keys);
        this.reserved(res.emitted);
        return res.answers;
      });
      a = await this.reservations.reserve(r);
    }
    if (!a) throw new Error('store answered no reservation');
    if (!a.ok) throw a.error;
    return a.answer;
  }

  /** Events a reservation's transaction stored (expired attempts): the lock cache now, sinks soon. */
  private reserved(emitted: StoredEvent[]): void {
    this.committed(emitted);
    if (emitted.length) setImmediate(() => this.toSinks(emitted));
  }

  /** Resolves when every queued batch is committed and its events are with the sinks. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    await this.sinking;
  }

  private async context(tx: CoreWriteTx, emit: (e: StoredEvent) => void): Promise<ProcessContext> {
    return { now: this.clock(), tx, policy: await tx.getPolicy(), emit };
  }

  /**
   * Starts group commits while batches are queued and the store takes another group (one at a
   * time unless the store says otherwise: the SQLite writer thread runs the groups it is sent in
   * order, so a second one waits there instead of a round trip behind the first). Each group takes
   * every batch queued when it starts (up to MAX_GROUP_EVENTS). Groups settle in the order they
   * started: the store answers them in that order, and each answer is taken in its own turn.
   */
  private pump(): void {
    while (this.queue.length && this.running < this.parallel) {
      const jobs: Job[] = [];
      let n = 0;
      while (this.queue.length && (jobs.length === 0 || n + this.queue[0].events.length <= MAX_GROUP_EVENTS)) {
        const job = this.queue.shift()!;
        n += job.events.length;
        jobs.push(job);
      }
      this.running++;
      // commitGroup settles every job itself and never rejects.
      void this.commitGroup(jobs).finally(() => {
        this.running--;
        this.pump();
      });
    }
    if (this.running === 0 && this.queue.length === 0 && this.drained) {
      const done = this.drained;
      this.drained = null;
      this.draining = null;
      done();
    }
  }

  private async commitGroup(jobs: Job[]): Promise<void> {
    let outcomes: GroupOutcome[];
    let all: () => StoredEvent[] | Promise<StoredEvent[]>;
    try {
      if (this.deps.store.ingestGroup) {
        const r = await this.ingestInStore(jobs);
        outcomes = r.outcomes;
        all = r.committed;
      } else {
        const done = await this.deps.store.write((tx) => this.commitInTx(tx, jobs), batchKeys(jobs));
        outcomes = done;
        all = () => done.flatMap((o) => (o.ok ? o.committed : []));
      }
    } catch (error) {
      this.deps.log.error('store transaction failed', { error: String(error) });
      for (const job of jobs) job.reject(error);
      return;
    }
    const made: StoredEvent[] = [];
    for (const o of outcomes) if (o.ok) made.push(...o.made);
    this.committed(made);
    jobs.forEach((job, i) => {
      const o = outcomes[i];
      if (o.ok) {
        job.resolve(o.result);
      } else {
        this.deps.log.error('batch failed in processing', { error: String(o.error) });
        job.reject(o.error);
      }
    });
    // Answer the clients first; sinks from the next turn on, group after group in commit order.
    this.sinking = this.sinking.then(async () => {
      await new Promise<void>((r) => setImmediate(r));
      try {
        this.toSinks(await all());
      } catch (err) {
        this.deps.log.error('committed events could not reach the sinks', { error: String(err) });
      }
    });
  }

  private commitInTx(tx: CoreWriteTx, jobs: readonly Job[]): Promise<Outcome[]> {
    const procs = { processors: this.deps.processors, isolatedProcessors: this.deps.isolatedProcessors ?? [], log: this.deps.log };
    return commitGroupInTx(tx, jobs.map((j) => j.events), procs, this.clock);
  }

  /** The whole group commit in the store (its writer thread runs the processors); one call. */
  private async ingestInStore(jobs: readonly Job[]): Promise<IngestGroupResult> {
    const r = await this.deps.store.ingestGroup!({ batches: jobs.map((j) => j.events), now: this.clock() });
    for (const l of r.logs) this.deps.log[l.level](l.msg, l.fields);
    if (r.failed) throw r.failed;
    if (r.outcomes.length !== jobs.length) throw new Error(`store answered ${r.outcomes.length} outcomes for ${jobs.length} batches`);
    return r;
  }

  private committed(events: StoredEvent[]): void {
    if (!events.length || !this.deps.onCommit) return;
    try {
      this.deps.onCommit(events);
    } catch (err) {
      this.deps.log.error('commit listener failed', { error: String(err) });
    }
  }

  private toSinks(events: StoredEvent[]): void {
    if (!events.length) return;
    for (const sink of this.deps.sinks) {
      try {
        sink.write(events);
      } catch (err) {
        this.deps.log.error('sink failed', { sink: sink.name, error: String(err) });
      }
    }
  }

  /** Waits for queued batches, then closes the sinks (flushing what they buffer). */
  async close(): Promise<void> {
    await this.flush();
    // Let the pending setImmediate sink deliveries (reservations') run before closing.
    await new Promise((r) => setImmediate(r));
    await Promise.all(
      this.deps.sinks.map((s) =>
        s.close().catch((err: unknown) => this.deps.log.error('sink close failed', { sink: s.name, error: String(err) })),
      ),
    );
  }
}

/**
 * What a group of batches touches: every processor keys its state by an event's user, address or
 * session id (lockout counters and locks, sessions, detection windows and profiles).
 */
function batchKeys(jobs: readonly Job[]): LockKeys {
  const users = new Set<string>();
  const ips = new Set<string>();
  const sessions = new Set<string>();
  for (const job of jobs) {
    for (const e of job.events) {
      users.add(e.user);
      if (e.ip) ips.add(e.ip);
      if (e.session_id) sessions.add(e.session_id);
    }
  }
  return { users, ips, sessions };
}
