// Worker-thread side of the SQLite worker store (sqlite-worker.ts). Two roles:
//  - writer: owns the write connection and runs a tight loop (no event loop) taking operations
//    from a MessagePort, woken by a counter in shared memory; transactions stay open across
//    operations, so the main thread's processors drive one BEGIN IMMEDIATE … COMMIT.
//  - reader: a read-only connection answering queries and handing out exports in chunks.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { EventStream, openReader, type SqliteReader } from './sqlite-read';
import { SqliteWriter, type SqliteSync } from './sqlite-write';
import { WriterIngest, type WireIngestGroup } from './sqlite-ingest';
import { csvLines } from '../schema/csv';
import type { IngestProcessorConfig } from '../pipeline/group-commit';
import type { ReserveGroup } from '../pipeline/reserve-group';
import { BadQuery } from './store';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The nice value of the reader threads for queries and exports. /v1/check is answered on the
 * event-loop thread; when the machine is short of CPU, the scheduler then runs that thread ahead
 * of a CSV export's reads instead of a check waiting behind their time slice. With CPU to spare it
 * changes nothing. Not the writer nor the point-read thread: a check (an attempt reservation, a
 * policy read) can wait on those, and a lower priority there would make it wait longer. Linux only.
 */
export const BACKGROUND_NICE = 10;

function lowerThisThreadsPriority(): void {
  try {
    // "<pid>/task/<tid>": setpriority() on a thread id applies to that thread alone.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICE);
  } catch {
    // No /proc (not Linux) or not permitted: the thread keeps the process's priority.
  }
}

/** Slots of the shared Int32Array. */
export const REQUESTS = 0;
export const REPLIES = 1;
export const DEAD = 2;

/** How a request is answered: not at all (errors wait for the next answered one), on the sync port, or by message. */
export const NO_REPLY = 0;
export const SYNC_REPLY = 1;
export const ASYNC_REPLY = 2;

export interface WriterRequest {
  id: number;
  op: string;
  args: unknown[];
  reply: number;
}

export interface WireError {
  kind: 'BadQuery' | 'Error';
  name: string;
  message: string;
  code?: string;
}

export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: err instanceof BadQuery ? 'BadQuery' : 'Error', name: err.name, message: err.message, code: (err as { code?: string }).code };
}

interface WriterData {
  role: 'writer';
  file: string;
  synchronous: SqliteSync;
  shared: SharedArrayBuffer;
  requests: MessagePort;
  /** Attempt reservations: taken before the next request whenever no transaction is open. */
  priority: MessagePort;
  replies: MessagePort;
  spinMicros: number;
  /** The processors' configuration: group commits then run here whole (op "ingest"). */
  ingest?: IngestProcessorConfig;
}

interface ReaderData {
  role: 'reader';
  file: string;
  /** Queries and exports: runs at BACKGROUND_NICE. */
  background?: boolean;
}

async function runWriter(d: WriterData): Promise<void> {
  const ctl = new Int32Array(d.shared);
  let writer: SqliteWriter;
  let ingest: WriterIngest | null = null;
  try {
    writer = new SqliteWriter(d.file, { synchronous: d.synchronous });
    if (d.ingest) ingest = new WriterIngest(writer, d.ingest, toWire);
  } catch (e) {
    parentPort!.postMessage({ ready: false, error: toWire(e) });
    return;
  }
  parentPort!.postMessage({ ready: true });
  // An operation that is not answered and fails: every later one fails with it (skipped) until a
  // rollback undoes it (the whole transaction, or a savepoint opened before it failed), the way
  // the exception would have unwound the caller.
  let deferred: { error: unknown; depth: number } | null = null;
  const exec = (m: WriterRequest): unknown => {
    switch (m.op) {
      case 'begin':
        return writer.begin();
      case 'commit':
        return writer.commit();
      case 'rollback':
        return writer.rollback();
      case 'savepoint':
        return writer.savepoint(m.args[0] as number);
      case 'release':
        return writer.release(m.args[0] as number);
      case 'rollbackTo':
        return writer.rollbackTo(m.args[0] as number);
      case 'meta':
        return writer.getOrCreateMeta(m.args[0] as string, m.args[1] as string);
      case 'purge':
        return writer.purgeEventsBefore(m.args[0] as number);
      default: {
        const f = (writer.ops as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>)[m.op];
        if (!Object.prototype.hasOwnProperty.call(writer.ops, m.op) || typeof f !== 'function') throw new Error(`unknown store operation ${m.op}`);
        return f(...m.args);
      }
    }
  };
  const answer = (m: WriterRequest, msg: { id: number; ok: boolean; value?: unknown; error?: WireError }) => {
    if (m.reply === SYNC_REPLY) {
      d.replies.postMessage(msg);
      Atomics.add(ctl, REPLIES, 1);
      Atomics.notify(ctl, REPLIES);
    } else if (m.reply === ASYNC_REPLY) parentPort!.postMessage(msg);
  };
  const handle = (m: WriterRequest): boolean => {
    if (m.op === 'close') {
      try {
        if (writer.inTransaction) writer.rollback();
        writer.close();
        answer(m, { id: m.id, ok: true });
      } catch (e) {
        answer(m, { id: m.id, ok: false, error: toWire(e) });
      }
      return false;
    }
    if (m.op === 'rollback' || (m.op === 'rollbackTo' && deferred !== null && (m.args[0] as number) <= deferred.depth)) deferred = null;
    if (deferred !== null && m.op !== 'rollbackTo') {
      if (m.reply !== NO_REPLY) answer(m, { id: m.id, ok: false, error: toWire(deferred.error) });
      return true;
    }
    try {
      const value = exec(m);
      answer(m, { id: m.id, ok: true, value });
    } catch (e) {
      if (m.reply === NO_REPLY) deferred ??= { error: e, depth: writer.depth };
      else answer(m, { id: m.id, ok: false, error: toWire(e) });
    }
    return true;
  };

  const runIngest = async (m: WriterRequest): Promise<void> => {
    if (!ingest || writer.inTransaction || deferred !== null) {
      const why = !ingest ? 'this writer has no ingest processors' : 'a transaction is already open';
      answer(m, { id: m.id, ok: false, error: toWire(deferred?.error ?? new Error(why)) });
      return;
    }
    answer(m, { id: m.id, ok: true, value: await ingest.run(m.args[0] as WireIngestGroup) });
  };

  /** Every reservation group waiting, in one transaction (before the next group commit); false when none. */
  const drainPriority = async (): Promise<boolean> => {
    const waiting: WriterRequest[] = [];
    let msg;
    while ((msg = receiveMessageOnPort(d.priority)) !== undefined) waiting.push(msg.message as WriterRequest);
    if (!waiting.length) return false;
    if (!ingest) {
      for (const m of waiting) answer(m, { id: m.id, ok: false, error: toWire(new Error('this writer has no ingest processors')) });
      return true;
    }
    const results = await ingest.reserve(waiting.map((m) => m.args[0] as ReserveGroup));
    waiting.forEach((m, i) => answer(m, { id: m.id, ok: true, value: results[i] }));
    return true;
  };

  try {
    for (;;) {
      // The counter first: a request posted after this read changes it, so the wait below
      // returns at once instead of missing it.
      const seen = Atomics.load(ctl, REQUESTS);
      // Reservations go first, between transactions: a check waits for the transaction under
      // way only. Inside a transaction they wait (the next request is that transaction's).
      const reserved = !writer.inTransaction && deferred === null && (await drainPriority());
      const msg = receiveMessageOnPort(d.requests);
      if (msg === undefined) {
        if (reserved) continue;
        // Nothing to take: spin briefly (inside a transaction the next operation follows within
        // microseconds), then sleep on the counter.
        if (writer.inTransaction && d.spinMicros > 0) {
          const until = performance.now() + d.spinMicros / 1000;
          while (Atomics.load(ctl, REQUESTS) === seen && performance.now() < until);
        }
        Atomics.wait(ctl, REQUESTS, seen, 1000);
        continue;
      }
      // One request, or unanswered ones followed by the answered one they were held for.
      const batch = Array.isArray(msg.message) ? (msg.message as WriterRequest[]) : [msg.message as WriterRequest];
      for (const m of batch) {
        if (m.op === 'stage') {
          // Data for a coming group, not a store operation: taken even inside a failed transaction.
          if (ingest) ingest.stage(m.args[0] as number, m.args[1] as number, m.args[2] as string);
          continue;
        }
        if (m.op === 'ingest') {
          // The processors are async functions: awaiting here lets their promise chain run
          // (and the event loop, should one ever wait on it); nothing else is taken meanwhile.
          await runIngest(m);
          continue;
        }
        if (!handle(m)) return;
      }
    }
  } finally {
    Atomics.store(ctl, DEAD, 1);
    Atomics.notify(ctl, REPLIES);
  }
}

function runReader(d: ReaderData): void {
  if (d.background) lowerThisThreadsPriority();
  let reader: SqliteReader;
  try {
    reader = openReader(d.file);
  } catch (e) {
    parentPort!.postMessage({ ready: false, error: toWire(e) });
    return;
  }
  const streams = new Map<number, EventStream>();
  /** Up to n more rows of a stream; a stream that runs short is done and forgotten. */
  const next = (id: number, n: number) => {
    const s = streams.get(id);
    if (!s) return [];
    const chunk = s.next(n);
    if (chunk.length < n) streams.delete(id);
    return chunk;
  };
  let nextStream = 1;
  const { close: _close, ...reads } = reader;
  const ops: Record<string, (...a: never[]) => unknown> = {
    ...(reads as unknown as Record<string, (...a: never[]) => unknown>),
    streamOpen: (f: ConstructorParameters<typeof EventStream>[1], order: 'asc' | 'desc') => {
      const id = nextStream++;
      streams.set(id, new EventStream(d.file, f, order));
      return id;
    },
    streamNext: (id: number, n: number) => next(id, n),
    // The export's CSV lines formatted here: on the event-loop thread they cost ~1 ms per chunk.
    // Sent as text: bytes handed over as ArrayBuffers piled up outside the heap (~60 MB of RSS
    // per export) until a GC of the event-loop thread, whose heap barely grows during an export.
    streamNextCsv: (id: number, n: number, hide: boolean) => {
      const chunk = next(id, n);
      return { rows: chunk.length, text: csvLines(chunk, hide) };
    },
    streamClose: (id: number) => {
      streams.get(id)?.close();
      streams.delete(id);
    },
  };
  parentPort!.on('message', (m: { id: number; op: string; args: unknown[] }) => {
    if (m.op === 'close') {
      for (const s of streams.values()) s.close();
      streams.clear();
      reader.close();
      parentPort!.postMessage({ id: m.id, ok: true });
      parentPort!.close();
      return;
    }
    try {
      const f = Object.prototype.hasOwnProperty.call(ops, m.op) ? ops[m.op] : undefined;
      if (!f) throw new Error(`unknown store query ${m.op}`);
      parentPort!.postMessage({ id: m.id, ok: true, value: (f as (...a: unknown[]) => unknown)(...m.args) });
    } catch (e) {
      parentPort!.postMessage({ id: m.id, ok: false, error: toWire(e) });
    }
  });
  parentPort!.postMessage({ ready: true });
}

if (parentPort && workerData && (workerData as { role?: string }).role) {
  const d = workerData as WriterData | ReaderData;
  if (d.role === 'writer') void runWriter(d);
  else runReader(d);
}
