// SQLite store, in-process: the write side (sqlite-write.ts: one connection, WAL, synchronous=FULL
// so a COMMIT is on disk before the caller answers 202) and the read side (sqlite-read.ts: a
// read-only connection for the query API, a private one per streamed export) on the calling
// thread. The collector runs the same two sides in worker threads (sqlite-worker.ts), so that no
// fsync, export or heavy query ever runs on the thread that answers /v1/check; this class is the
// reference the worker store is tested against, and what tests and tools open directly.
import { resolve } from 'node:path';
import type { StoredEvent } from '../schema/stored-event';
import { Mutex } from './mutex';
import { StreamPacer } from './stream-pacing';
import type { SearchFilter } from './filter-sql';
import { forwardReads, type Reads } from './engine/reads';
import { EventStream, openReader, type SqliteReader } from './sqlite-read';
import { SqliteWriter, writerTx, type SqliteOptions } from './sqlite-write';
import type { CoreStore, CoreWriteTx, EventFilter } from './store';

export { rowToEvent } from './sqlite-read';
export { sqliteSyncFromEnv, writePragmas, type SqliteOptions, type SqliteSync } from './sqlite-write';

/** Parses "sqlite:./data/authwatch.db" / "sqlite:/abs/path.db" / a bare path. */
export function sqlitePathFromUrl(url: string): string {
  const path = url.startsWith('sqlite://') ? url.slice('sqlite://'.length) : url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (!path) throw new Error(`AUTHWATCH_STORE: no file in "${url}"`);
  return resolve(path);
}

/** The reads run on the calling thread, answered as promises (engine/reads.ts). */
export interface SqliteStore extends Reads<false> {}

export class SqliteStore implements CoreStore {
  readonly description: string;
  private readonly writer: SqliteWriter;
  private readonly reader: SqliteReader;
  private readonly mutex = new Mutex();
  private readonly tx: CoreWriteTx;
  private closed = false;

  constructor(readonly file: string, opts: SqliteOptions = {}) {
    this.description = `sqlite:${file}`;
    this.writer = new SqliteWriter(file, opts);
    this.reader = openReader(file);
    const reader = this.reader as unknown as Record<string, (...a: unknown[]) => unknown>;
    forwardReads(this, async (op, args) => reader[op](...args));
    this.tx = writerTx(this.writer);
  }

  async write<T>(fn: (tx: CoreWriteTx) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      this.writer.begin();
      try {
        const result = await fn(this.tx);
        this.writer.commit();
        return result;
      } catch (e) {
        this.writer.rollback();
        throw e;
      }
    });
  }

  async getOrCreateMeta(key: string, make: () => string): Promise<string> {
    return this.mutex.run(async () => this.writer.getOrCreateMeta(key, make()));
  }

  async *streamEvents(filter: EventFilter, order: 'asc' | 'desc'): AsyncIterable<StoredEvent> {
    const stream = new EventStream(this.file, filter as SearchFilter, order);
    const pacer = new StreamPacer();
    try {
      for (;;) {
        await pacer.turn();
        const chunk = stream.next(64);
        for (const e of chunk) yield e;
        if (chunk.length < 64) return;
      }
    } finally {
      stream.close();
    }
  }

  async purgeEventsBefore(before: number): Promise<number> {
    return this.mutex.run(async () => {
      if (this.closed) throw new Error('store is closed');
      return this.writer.purgeEventsBefore(before);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Wait for the writer in progress, then close both connections.
    await this.mutex.run(async () => {
      this.closed = true;
      this.reader.close();
      this.writer.close();
    });
  }
}

export function openSqliteStore(url: string, opts: SqliteOptions = {}): SqliteStore {
  return new SqliteStore(sqlitePathFromUrl(url), opts);
}
