// SQLite store whose storage work runs off the event loop (the collector's default for SQLite).
// The writer thread owns the write connection: write(fn) opens BEGIN IMMEDIATE there, the
// processors keep running on this thread and each tx operation is forwarded to the writer, which
// holds the transaction until COMMIT, so every fsync happens in the writer thread and a 202 still
// follows a durable commit. Reader threads answer the query API and hand exports out in chunks.
//
// Opened with the processors' configuration (`ingest`, as the collector does), a group commit is
// one message instead: ingestGroup sends the group's events, the writer thread runs the same
// transaction body with its own processors (sqlite-ingest.ts) and answers with the outcomes, the
// committed events and what the processors logged. write() (admin actions, checks, the sweeper)
// keeps forwarding operations, as below; the mutex keeps both kinds of transaction apart.
//
// Forwarding costs a thread hop per operation, so:
//  - operations without a result (putState, touchSession, …) are posted without waiting; an error
//    in one fails the next operation that is waited for (as the exception would have);
//  - small operations wait synchronously (Atomics.wait on a shared counter, the answer taken with
//    receiveMessageOnPort), which costs microseconds instead of an event-loop turn each;
//  - so that a long transaction cannot hold this thread, after `yieldMs` of synchronous work the
//    next operation is asynchronous (this thread serves other requests meanwhile), and large
//    inserts, BEGIN and COMMIT are always asynchronous.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { StoredEvent } from '../schema/stored-event';
import { CSV_CHUNK_ROWS } from '../schema/csv';
import { Mutex } from './mutex';
import { StreamPacer } from './stream-pacing';
import { sqlitePathFromUrl } from './sqlite';
import { ASYNC_REPLY, DEAD, NO_REPLY, REPLIES, REQUESTS, SYNC_REPLY, type WireError, type WriterRequest } from './sqlite-worker-entry';
import { VOID_OPS, WRITE_OPS, type SqliteOptions } from './sqlite-write';
import { BadQuery } from './store';
import type { CoreStore, CoreWriteTx, EventFilter, IngestGroup, IngestGroupResult, Policy } from './store';
import type { IngestProcessorConfig } from '../pipeline/group-commit';
import type { WireIngestGroup, WireIngestResult, WireReserveResult } from './sqlite-ingest';
import type { ReserveGroup, ReserveGroupResult } from '../pipeline/reserve-group';
import { SentGroup, WIRE_SLICE } from './wire-events';
import { forwardReads, type Reads } from './engine/reads';

export interface SqliteWorkerOptions extends SqliteOptions {
  /** Synchronous store work this thread may do in a row before an asynchronous hop (ms). 0: every operation is asynchronous. */
  yieldMs?: number;
  /** Inside a transaction, how long either side spins for the other before sleeping (µs). */
  spinMicros?: number;
  /** Reader threads: the first answers point reads, the others queries and exports. */
  readers?: number;
  /**
   * The collector's processor configuration: the writer thread then builds the processors and
   * runs each group commit whole (ingestGroup), one message each way. Without it, ingest goes
   * through write() with every store operation forwarded.
   */
  ingest?: IngestProcessorConfig;
}

/** Inserts of at least this many events go asynchronously (the writer works while this thread does not wait). */
const ASYNC_INSERT = 32;
/** How long a committed policy read is reused when this store has not changed it. */
const POLICY_TTL_MS = 1000;
/** Events per export chunk: small enough that turning one chunk into CSV is a short task. */
const STREAM_CHUNK = 256;

function fromWire(e: WireError): Error {
  if (e.kind === 'BadQuery') return new BadQuery(e.message);
  const err = new Error(e.message) as Error & { code?: string };
  err.name = e.name;
  if (e.code !== undefined) err.code = e.code;
  return err;
}

/** The worker script: the compiled file, or (tests running the TypeScript sources) the .ts file compiled on load by @swc/core. */
function workerScript(): { script: string; eval: boolean } {
  const js = join(__dirname, 'sqlite-worker-entry.js');
  if (existsSync(js)) return { script: js, eval: false };
  const ts = join(__dirname, 'sqlite-worker-entry.ts');
  const swc = require.resolve('@swc/core', { paths: [__dirname] });
  const script = `
    const { transformSync } = require(${JSON.stringify(swc)});
    const { readFileSync } = require('node:fs');
    require.extensions['.ts'] = (m, filename) => {
      const { code } = transformSync(readFileSync(filename, 'utf8'), {
        filename, sourceMaps: 'inline', module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      });
      m._compile(code, filename);
    };
    require(${JSON.stringify(ts)});`;
  return { script, eval: true };
}

function startWorker(workerData: Record<string, unknown>, transferList: MessagePort[] = []): Promise<Worker> {
  const { script, eval: isEval } = workerScript();
  const worker = new Worker(script, { eval: isEval, workerData, transferList });
  return new Promise((resolve, reject) => {
    const onMessage = (m: { ready?: boolean; error?: WireError }) => {
      if (m.ready === undefined) return;
      worker.off('message', onMessage);
      worker.off('error', onError);
      if (m.ready) resolve(worker);
      else {
        void worker.terminate();
        reject(fromWire(m.error!));
      }
    };
    const onError = (e: Error) => reject(e);
    worker.on('message', onMessage);
    worker.once('error', onError);
  });
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Request/response over a worker's message channel; keeps the worker referenced only while waiting. */
class AsyncChannel {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private gone: Error | null = null;

  constructor(
    readonly worker: Worker,
    private readonly onAnswer: () => void = () => {},
  ) {
    worker.unref();
    worker.on('message', (m: { id?: number; ok: boolean; value?: unknown; error?: WireError }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (!this.pending.size) worker.unref();
      this.onAnswer();
      if (m.ok) p.resolve(m.value);
      else p.reject(fromWire(m.error!));
    });
    const fail = (e: Error) => {
      this.gone ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite worker thread has stopped (${code})`)));
  }

  get busy(): number {
    return this.pending.size;
  }

  /** Registers an answer by id; `send` posts the request. */
  expect<T>(send: (id: number) => void): Promise<T> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.size === 1) this.worker.ref();
      try {
        send(id);
      } catch (e) {
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  call<T>(op: string, args: unknown[]): Promise<T> {
    return this.expect<T>((id) => this.worker.postMessage({ id, op, args }));
  }
}

class Writer {
  private readonly ctl: Int32Array;
  private readonly channel: AsyncChannel;
  private syncExpected = 0;
  private ids = 0;
  /** When this thread last came back from an asynchronous hop. */
  burstStart = 0;

  constructor(
    worker: Worker,
    shared: SharedArrayBuffer,
    private readonly requests: MessagePort,
    private readonly priority: MessagePort,
    private readonly replies: MessagePort,
    private readonly yieldMs: number,
    private readonly spinMicros: number,
  ) {
    this.ctl = new Int32Array(shared);
    this.channel = new AsyncChannel(worker, () => (this.burstStart = performance.now()));
  }

  get worker(): Worker {
    return this.channel.worker;
  }

  /** Operations without an answer, held back until the next one that has one: waking the
   * writer costs more than the operation (a thread hop is ~20 µs of CPU on a virtual machine). */
  private held: WriterRequest[] = [];

  private post(m: WriterRequest): void {
    if (this.held.length) {
      this.held.push(m);
      this.requests.postMessage(this.held);
      this.held = [];
    } else this.requests.postMessage(m);
    Atomics.add(this.ctl, REQUESTS, 1);
    Atomics.notify(this.ctl, REQUESTS);
  }

  /** Fire and forget (its error, if any, fails the next answered operation); sent with the next answered one. */
  /** Posted at once, without an answer (data the writer keeps for a later operation). */
  postNow(op: string, args: unknown[]): void {
    this.post({ id: ++this.ids, op, args, reply: NO_REPLY });
  }

  /** Answered by message; the writer takes it before its next request once no transaction is open. */
  asyncFirst(op: string, args: unknown[]): Promise<unknown> {
    return this.channel.expect((id) => {
      this.priority.postMessage({ id, op, args, reply: ASYNC_REPLY } satisfies WriterRequest);
      Atomics.add(this.ctl, REQUESTS, 1);
      Atomics.notify(this.ctl, REQUESTS);
    });
  }

  send(op: string, args: unknown[]): void {
    this.held.push({ id: ++this.ids, op, args, reply: NO_REPLY });
  }

  async(op: string, args: unknown[]): Promise<unknown> {
    return this.channel.expect((id) => this.post({ id, op, args, reply: ASYNC_REPLY }));
  }

  /** Blocks this thread until the writer answers (for operations of microseconds). */
  sync(op: string, args: unknown[]): unknown {
    this.post({ id: ++this.ids, op, args, reply: SYNC_REPLY });
    const target = ++this.syncExpected;
    const ctl = this.ctl;
    let seen = Atomics.load(ctl, REPLIES);
    if (seen < target) {
      const until = performance.now() + this.spinMicros / 1000;
      while ((seen = Atomics.load(ctl, REPLIES)) < target && performance.now() < until);
      while ((seen = Atomics.load(ctl, REPLIES)) < target) {
        if (Atomics.load(ctl, DEAD)) throw new Error('the SQLite writer thread has stopped');
        Atomics.wait(ctl, REPLIES, seen, 100);
      }
    }
    const m = receiveMessageOnPort(this.replies)?.message as { ok: boolean; value?: unknown; error?: WireError } | undefined;
    if (!m) throw new Error('the SQLite writer thread answered nothing');
    if (!m.ok) throw fromWire(m.error!);
    return m.value;
  }

  /** Synchronous while this thread's burst is short, asynchronous (a yield) once it is not. */
  value(op: string, args: unknown[]): Promise<unknown> {
    if (this.yieldMs > 0 && performance.now() - this.burstStart < this.yieldMs) {
      try {
        return Promise.resolve(this.sync(op, args));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.async(op, args);
  }
}

/** Point reads (locks, one session, gauges) have their own thread, never behind an export. */
const POINT_READS: ReadonlySet<string> = new Set(['getPolicy', 'activeLocks', 'getSession', 'countActiveSessions', 'countLockedAccounts']);

/** The reads but getPolicy are forwarded to the reader threads (engine/reads.ts). */
export interface SqliteWorkerStore extends Omit<Reads<false>, 'getPolicy'> {}

export class SqliteWorkerStore implements CoreStore {
  readonly description: string;
  private readonly mutex = new Mutex();
  /** Ids of staged groups (wire-events.ts). */
  private stages = 0;
  private readonly tx: CoreWriteTx;
  private closed = false;
  private depth = 0;
  /** Operations posted without an answer in this transaction (their errors are still to come). */
  private unanswered = 0;
  /** The policy as this transaction read it. */
  private policy: Policy | null = null;
  /** Whether this transaction wrote the policy. */
  private policyWritten = false;
  /** The committed policy, for /v1/check (read on every check): kept until this store commits a
   * change, and for at most POLICY_TTL_MS (another process on the same file may change it). */
  private committedPolicy: { value: Policy; at: number } | null = null;
  private policyGeneration = 0;
  /** Present when the writer thread runs the processors (opened with `ingest`). */
  readonly ingestGroup?: (group: IngestGroup) => Promise<IngestGroupResult>;
  /** Two groups in flight: the next one is in the writer thread's queue when the first commits. */
  readonly parallelWrites?: number;
  /** Present with `ingest`: reservations run in the writer thread ahead of its next group. */
  readonly reserveAttempts?: (group: ReserveGroup) => Promise<ReserveGroupResult>;

  private constructor(
    readonly file: string,
    private readonly writer: Writer,
    private readonly readers: AsyncChannel[],
    ingest: boolean,
  ) {
    this.description = `sqlite:${file}`;
    if (ingest) {
      this.ingestGroup = (group) => this.ingestInWriter(group);
      this.parallelWrites = 2;
      this.reserveAttempts = (group) => this.reserveInWriter(group);
    }
    forwardReads(this, (op, args) => (POINT_READS.has(op) ? this.point(op, ...args) : this.heavy(op, ...args)));
    const w = writer;
    const ops: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
    for (const name of WRITE_OPS) {
      if (VOID_OPS.has(name)) {
        ops[name] = (...a) => {
          if (name === 'putPolicy') {
            this.policy = null;
            this.policyWritten = true;
          }
          this.unanswered++;
          w.send(name, a);
          return Promise.resolve();
        };
      } else if (name === 'insertEvents') {
        ops[name] = (...a) => ((a[0] as StoredEvent[]).length >= ASYNC_INSERT ? w.async(name, a) : w.value(name, a));
      } else if (name === 'getPolicy') {
        // Nobody else can change it while this transaction holds the write lock: read it once.
        // Frozen, not copied per call: a caller that wants another policy builds a new object.
        ops[name] = async () => {
          this.policy ??= Object.freeze((await w.value(name, [])) as Policy);
          return this.policy;
        };
      } else ops[name] = (...a) => w.value(name, a);
    }
    this.tx = {
      ...(ops as unknown as Omit<CoreWriteTx, 'savepoint'>),
      savepoint: async <T>(fn: () => Promise<T>) => {
        const depth = ++this.depth;
        const unanswered = this.unanswered;
        const policy = this.policy;
        w.send('savepoint', [depth]);
        try {
          const r = await fn();
          // Only an operation posted without an answer can still fail here; without one, the
          // release needs no answer either.
          if (this.unanswered !== unanswered) await w.value('release', [depth]);
          else w.send('release', [depth]);
          this.depth = depth - 1;
          return r;
        } catch (e) {
          this.depth = depth - 1;
          this.policy = policy;
          await w.async('rollbackTo', [depth]);
          throw e;
        }
      },
    };
  }

  static async open(file: string, opts: SqliteWorkerOptions = {}): Promise<SqliteWorkerStore> {
    const shared = new SharedArrayBuffer(16);
    const req = new MessageChannel();
    const first = new MessageChannel();
    const rep = new MessageChannel();
    // No spinning by default: on a machine short of CPU a spinning thread takes it from the one it waits for.
    const spinMicros = opts.spinMicros ?? 0;
    const worker = await startWorker(
      { role: 'writer', file, synchronous: opts.synchronous ?? 'full', shared, requests: req.port2, priority: first.port2, replies: rep.port1, spinMicros, ingest: opts.ingest },
      [req.port2, first.port2, rep.port1],
    );
    const writer = new Writer(worker, shared, req.port1, first.port1, rep.port2, opts.yieldMs ?? 1, spinMicros);
    const readers: AsyncChannel[] = [];
    try {
      // After the writer: it creates and migrates the file the readers open read-only.
      // readers[0] answers point reads a check may wait on; the others (queries, exports) yield the CPU to the event loop.
      for (let i = 0; i < Math.max(1, opts.readers ?? 2); i++) readers.push(new AsyncChannel(await startWorker({ role: 'reader', file, background: i > 0 })));
    } catch (e) {
      for (const r of readers) await r.worker.terminate();
      await worker.terminate();
      throw e;
    }
    return new SqliteWorkerStore(file, writer, readers, opts.ingest !== undefined);
  }

  /** Point reads (policy, locks, one session, gauges): their own thread, never behind an export. */
  private point<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.readers[0].call<T>(op, args);
  }

  /** Queries and exports: the least busy of the other reader threads. */
  private heavyReader(): AsyncChannel {
    const pool = this.readers.length > 1 ? this.readers.slice(1) : this.readers;
    return pool.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private heavy<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.heavyReader().call<T>(op, args);
  }

  async write<T>(fn: (tx: CoreWriteTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      await this.writer.async('begin', []);
      this.depth = 0;
      this.unanswered = 0;
      this.policy = null;
      this.policyWritten = false;
      try {
        const result = await fn(this.tx);
        await this.writer.async('commit', []);
        if (this.policyWritten) {
          this.policyGeneration++;
          this.committedPolicy = null;
        }
        return result;
      } catch (e) {
        await this.writer.async('rollback', []).catch(() => undefined);
        throw e;
      }
    });
  }

  /** One group commit in the writer thread: BEGIN, the processors, COMMIT, in one message; serialised with write(). */
  private async ingestInWriter(group: IngestGroup): Promise<IngestGroupResult> {
    const stage = ++this.stages;
    const total = group.batches.reduce((n, b) => n + b.length, 0);
    // The events go ahead in slices (wire-events.ts), a turn of the event loop after every
    // WIRE_SLICE events (a group of many small batches has many small slices); a small group rides
    // with the ingest message.
    let sinceTurn = 0;
    const sent = new SentGroup();
    for (let b = 0; b < group.batches.length; b++) {
      const events = group.batches[b];
      const texts: string[] = [];
      for (let i = 0; i < events.length; i += WIRE_SLICE) {
        const json = JSON.stringify(events.length <= WIRE_SLICE ? events : events.slice(i, i + WIRE_SLICE));
        texts.push(json);
        if (total <= WIRE_SLICE) this.writer.send('stage', [stage, b, json]);
        else {
          if (sinceTurn >= WIRE_SLICE) {
            await new Promise<void>((r) => setImmediate(r));
            sinceTurn = 0;
          }
          this.writer.postNow('stage', [stage, b, json]);
          sinceTurn += Math.min(WIRE_SLICE, events.length - i);
        }
      }
      sent.add(texts, events.length);
      // The batch is its text from now on: the array (the pipeline's) is emptied in place.
      events.length = 0;
    }
    // The mutex covers the post only: the writer thread runs what it is sent in order, so a group
    // sent while the previous one commits waits there (parallelWrites), and a write() transaction,
    // which holds the mutex throughout, begins after the groups sent before it.
    const answer = await this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      return { reply: this.writer.async('ingest', [{ stage, batches: group.batches.length, now: group.now } satisfies WireIngestGroup]) };
    });
    const r = (await answer.reply) as WireIngestResult;
    // In this turn, in the order the writer answered: what decisions read (the processors' own
    // events, as they came). The sent events are parsed back later, a slice per turn, for the sinks.
    return {
      outcomes: r.outcomes.map((o) =>
        o.ok ? { ok: true as const, result: o.result, made: o.committed.filter((c): c is StoredEvent => typeof c !== 'number') } : { ok: false as const, error: fromWire(o.error) },
      ),
      committed: async () => {
        const all: StoredEvent[] = [];
        for (const o of r.outcomes) if (o.ok) for (const e of await sent.committed(o.committed)) all.push(e);
        return all;
      },
      logs: r.logs,
      ...(r.failed ? { failed: fromWire(r.failed) } : {}),
    };
  }

  /**
   * Attempt reservations in the writer thread: not behind the mutex (the writer takes them only
   * between transactions) nor behind the groups already sent, so a check waits for at most the
   * transaction under way. All that arrived meanwhile share one transaction and one commit.
   */
  private async reserveInWriter(group: ReserveGroup): Promise<ReserveGroupResult> {
    if (this.closed) throw new Error('store is closed');
    const r = (await this.writer.asyncFirst('reserve', [group])) as WireReserveResult;
    return { answers: r.answers.map((a) => (a.ok ? a : { ok: false as const, error: fromWire(a.error) })), emitted: r.emitted };
  }

  async getOrCreateMeta(key: string, make: () => string): Promise<string> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      return (await this.writer.async('meta', [key, make()])) as string;
    });
  }

  async purgeEventsBefore(before: number): Promise<number> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      return (await this.writer.async('purge', [before])) as number;
    });
  }

  async getPolicy(): Promise<Policy> {
    const cached = this.committedPolicy;
    // Every check reads it: one frozen object, not a copy per check (~10 µs each).
    if (cached && performance.now() - cached.at < POLICY_TTL_MS) return cached.value;
    const generation = this.policyGeneration;
    const at = performance.now();
    const value = Object.freeze(await this.point<Policy>('getPolicy'));
    // A change committed while this read was on its way: do not keep what may be the old one.
    if (generation === this.policyGeneration) this.committedPolicy = { value, at };
    return value;
  }

  async *streamEvents(filter: EventFilter, order: 'asc' | 'desc'): AsyncIterable<StoredEvent> {
    if (this.closed) throw new Error('store is closed');
    const reader = this.heavyReader();
    const id = await reader.call<number>('streamOpen', [filter, order]);
    // One chunk ahead, so the reader thread reads while this thread writes out the last one.
    let next: Promise<StoredEvent[]> | null = reader.call<StoredEvent[]>('streamNext', [id, STREAM_CHUNK]);
    const pacer = new StreamPacer();
    try {
      while (next) {
        const chunk: StoredEvent[] = await next;
        next = chunk.length === STREAM_CHUNK ? reader.call<StoredEvent[]>('streamNext', [id, STREAM_CHUNK]) : null;
        for (const e of chunk) {
          await pacer.turn();
          yield e;
        }
      }
    } finally {
      next?.catch(() => undefined);
      reader.call('streamClose', [id]).catch(() => undefined);
    }
  }

  async *streamCsv(filter: EventFilter, order: 'asc' | 'desc', opts: { hide: boolean; limit: number }): AsyncIterable<string> {
    if (this.closed) throw new Error('store is closed');
    const reader = this.heavyReader();
    const id = await reader.call<number>('streamOpen', [filter, order]);
    let left = opts.limit;
    const ask = () => {
      const n = Math.min(CSV_CHUNK_ROWS, left);
      left -= n;
      return { n, answer: reader.call<{ rows: number; text: string }>('streamNextCsv', [id, n, opts.hide]) };
    };
    // One chunk ahead, so the reader thread reads and formats while this thread writes out the last.
    let next: ReturnType<typeof ask> | null = left > 0 ? ask() : null;
    try {
      while (next) {
        const { n, answer } = next;
        const chunk = await answer;
        next = chunk.rows === n && left > 0 ? ask() : null;
        if (chunk.text) yield chunk.text;
      }
    } finally {
      next?.answer.catch(() => undefined);
      reader.call('streamClose', [id]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.mutex.run(async () => {
      this.closed = true;
      await Promise.all(this.readers.map((r) => r.call('close', []).catch(() => undefined)));
      await this.writer.async('close', []).catch(() => undefined);
      await Promise.all([...this.readers.map((r) => r.worker.terminate()), this.writer.worker.terminate()]);
    });
  }
}

export function openSqliteWorkerStore(url: string, opts: SqliteWorkerOptions = {}): Promise<SqliteWorkerStore> {
  return SqliteWorkerStore.open(sqlitePathFromUrl(url), opts);
}
