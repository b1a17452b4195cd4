// Writer-thread side of a group commit (SqliteWorkerStore.ingestGroup): the collector's processors,
// built from the same configuration as the main thread's, run here against the write connection,
// so a group costs one message each way instead of a thread hop per store operation. The
// transaction body is the pipeline's own (pipeline/group-commit.ts).
import { commitGroupInTx, createIngestProcessors, type GroupProcessors, type IngestProcessorConfig } from '../pipeline/group-commit';
import { reserveInTx, type CheckAnswer, type ReserveGroup } from '../pipeline/reserve-group';
import type { StoredEvent } from '../schema/stored-event';
import { writerTx, type SqliteWriter } from './sqlite-write';
import type { CoreWriteTx, IngestGroupResult } from './store';
import { toRefs, type CommittedRef } from './wire-events';

/** An error as it crosses the thread boundary (sqlite-worker-entry.ts toWire). */
export interface WireErrorLike {
  kind: 'BadQuery' | 'Error';
  name: string;
  message: string;
  code?: string;
}

/** A group as it crosses to the writer: its events came ahead in 'stage' messages (wire-events.ts). */
export interface WireIngestGroup {
  stage: number;
  batches: number;
  now: number;
}

export interface WireIngestResult {
  outcomes: ({ ok: true; result: { accepted: number; duplicates: number }; committed: CommittedRef[] } | { ok: false; error: WireErrorLike })[];
  logs: IngestGroupResult['logs'];
  /** The transaction failed as a whole (nothing of the group is stored). */
  failed?: WireErrorLike;
}

/** A reservation group's answer as it crosses back (errors as WireErrorLike). */
export interface WireReserveResult {
  answers: ({ ok: true; answer: CheckAnswer } | { ok: false; error: WireErrorLike })[];
  emitted: StoredEvent[];
}

export class WriterIngest {
  private readonly tx: CoreWriteTx;
  private readonly procs: Omit<GroupProcessors, 'log'>;
  private readonly truncate: boolean;
  /** Events staged for a group that has not run yet, by stage id and batch. */
  private readonly staged = new Map<number, StoredEvent[][]>();

  constructor(
    private readonly writer: SqliteWriter,
    config: IngestProcessorConfig,
    private readonly toWire: (e: unknown) => WireErrorLike,
  ) {
    this.tx = writerTx(writer);
    // The detection windows live here from now on: on SQLite one process sees every event.
    this.procs = createIngestProcessors(config);
    this.truncate = config.truncate;
  }

  /**
   * Every reservation group that arrived while this thread was busy, in one transaction (one
   * commit for all). With more than one reservation each runs in its own savepoint, so one that
   * fails is refused alone; a failed transaction refuses them all.
   */
  async reserve(groups: ReserveGroup[]): Promise<WireReserveResult[]> {
    const isolate = groups.length > 1 || groups[0].reservations.length > 1;
    const t = await this.transaction(async () => {
      const out = [];
      for (const g of groups) out.push(await reserveInTx(this.tx, g, this.truncate, isolate));
      return out;
    });
    if (!t.ok) return groups.map((g) => ({ answers: g.reservations.map(() => ({ ok: false as const, error: t.error })), emitted: [] }));
    return t.value.map((r) => ({ answers: r.answers.map((a) => (a.ok ? a : { ok: false as const, error: this.toWire(a.error) })), emitted: r.emitted }));
  }

  /** BEGIN IMMEDIATE, the body, COMMIT (durable before the answer); on an error ROLLBACK, and the error as it crosses back. */
  private async transaction<T>(body: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: WireErrorLike }> {
    const w = this.writer;
    try {
      w.begin();
      const value = await body();
      w.commit();
      return { ok: true, value };
    } catch (e) {
      try {
        w.rollback();
      } catch {
        // Nothing to roll back (BEGIN failed) or the connection is gone: the error says why.
      }
      return { ok: false, error: this.toWire(e) };
    }
  }

  /** One JSON slice of a batch's events, ahead of the group's run. */
  stage(stage: number, batch: number, json: string): void {
    let batches = this.staged.get(stage);
    if (!batches) this.staged.set(stage, (batches = []));
    const events = JSON.parse(json) as StoredEvent[];
    const into = (batches[batch] ??= []);
    for (const e of events) into.push(e);
  }

  /** The group's transaction body in one transaction. */
  async run(group: WireIngestGroup): Promise<WireIngestResult> {
    const staged = this.staged.get(group.stage) ?? [];
    this.staged.delete(group.stage);
    const batches: StoredEvent[][] = Array.from({ length: group.batches }, (_, i) => staged[i] ?? []);
    const indexOf = new Map<StoredEvent, number>();
    for (const b of batches) for (const e of b) indexOf.set(e, indexOf.size);
    const logs: WireIngestResult['logs'] = [];
    const log = {
      warn: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'warn', msg, fields }),
      error: (msg: string, fields?: Record<string, unknown>) => void logs.push({ level: 'error', msg, fields }),
    };
    const t = await this.transaction(() => commitGroupInTx(this.tx, batches, { ...this.procs, log }, () => group.now));
    // The whole transaction failed: every batch is refused; what was logged still goes out.
    if (!t.ok) return { outcomes: [], failed: t.error, logs };
    return {
      outcomes: t.value.map((o) => (o.ok ? { ok: true as const, result: o.result, committed: toRefs(o.committed, indexOf) } : { ok: false as const, error: this.toWire(o.error) })),
      logs,
    };
  }
}
