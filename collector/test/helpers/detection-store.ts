// Processors driven through the real SQLite store, as the pipeline drives them: a fresh store file
// per test, and run() feeding events in batches, each batch in one store write transaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Processor } from '../../src/pipeline/contracts';
import type { StoredEvent } from '../../src/schema/stored-event';
import { markShared } from '../../src/store/shared-state';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite';

export interface DetectionStore {
  /** This test's store (opened in beforeEach, closed and removed in afterEach). */
  readonly store: SqliteStore;
  /**
   * Runs the processors over events `batch` at a time; returns what they emitted. `shared`: each
   * transaction says it is shared by several writers, as PostgreSQL's does, so the windowed
   * detections keep their windows in the store's state instead of in memory.
   */
  run(processors: Processor[], events: StoredEvent[], batch?: number, opts?: { shared?: boolean }): Promise<StoredEvent[]>;
}

/** Call at the top of a test file: registers the beforeEach/afterEach that open and remove the store. */
export function useDetectionStore(prefix: string): DetectionStore {
  let dir = '';
  let store: SqliteStore | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `authwatch-${prefix}-`));
    store = openSqliteStore(`sqlite:${join(dir, 'authwatch.db')}`);
  });
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get store() {
      if (!store) throw new Error('the detection store is open only inside a test');
      return store;
    },
    async run(processors, events, batch = 500, opts = {}) {
      const emitted: StoredEvent[] = [];
      for (let i = 0; i < events.length; i += batch) {
        const slice = events.slice(i, i + batch);
        await this.store.write(async (plain) => {
          const tx = opts.shared ? markShared({ ...plain }) : plain;
          const ctx = { now: slice[slice.length - 1].time, tx, policy: await tx.getPolicy(), emit: (e: StoredEvent) => void emitted.push(e) };
          for (const p of processors) await p.process(slice, ctx);
        });
      }
      return emitted;
    },
  };
}
