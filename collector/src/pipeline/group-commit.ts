// One group commit's work inside its write transaction: insert the batches' events (idempotent),
// run the processors over the fresh ones, store what they emit. The runner calls it inside
// store.write(); the SQLite writer thread calls it inside its own transaction (store/sqlite-ingest.ts),
// so both paths run the same code over the same processors.
import type { ProcessContext, Processor } from './contracts';
import type { StoredEvent } from '../schema/stored-event';
import type { CoreWriteTx } from '../store/store';
import type { Logger } from '../log';
import { createLockoutProcessor } from '../processors/lockout';
import { createSessionProcessor } from '../processors/sessions';
import { createDetections } from '../processors/detections';
import type { DetectionConfig } from '../processors/detections/config';

export interface IngestResult {
  accepted: number;
  duplicates: number;
}

/**
 * Per batch: its counts and (on the first batch) the group's committed events, of which `made`
 * are those the processors made (lockouts, unlocks, detections, session ends), or its error.
 */
export type Outcome = { ok: true; result: IngestResult; committed: StoredEvent[]; made: StoredEvent[] } | { ok: false; error: unknown };

export interface GroupProcessors {
  /** Sessions and lockout: a failure here fails the batch (its counts must be exact). */
  processors: readonly Processor[];
  /** Detections: each in its own savepoint; a failure drops its results only, and is logged. */
  isolatedProcessors: readonly Processor[];
  log: Pick<Logger, 'warn' | 'error'>;
}

/** What the collector's ingest processors are built from (plain data: it crosses to the writer thread). */
export interface IngestProcessorConfig {
  /** AUTHWATCH_IP_TRUNCATE (lockout keys). */
  truncate: boolean;
  detections: DetectionConfig;
}

/** The collector's processors, in order: sessions, lockout, then the isolated detections. */
export function createIngestProcessors(c: IngestProcessorConfig): { processors: Processor[]; isolatedProcessors: Processor[] } {
  return {
    processors: [createSessionProcessor(), createLockoutProcessor({ truncate: c.truncate })],
    isolatedProcessors: createDetections(c.detections),
  };
}

/**
 * The body of a group commit's transaction: the group as one batch inside a savepoint, and if
 * that fails, batch by batch each in its own savepoint so only the bad one is refused. One batch
 * alone is not wrapped: its error fails the transaction. `now` is read per processing context.
 */
export async function commitGroupInTx(tx: CoreWriteTx, batches: readonly StoredEvent[][], p: GroupProcessors, now: () => number): Promise<Outcome[]> {
  if (batches.length > 1) {
    // The group as one batch: each processor runs once over every event, in arrival order
    // (per-batch processing cost a store round trip per call, per batch).
    try {
      return await tx.savepoint(() => processBatches(tx, batches, p, now));
    } catch (err) {
      p.log.warn('group commit failed as one batch; retrying batch by batch', { batches: batches.length, error: String(err) });
    }
  }
  const out: Outcome[] = [];
  for (const batch of batches) {
    const one = () => processBatches(tx, [batch], p, now).then((r) => r[0]);
    try {
      out.push(batches.length === 1 ? await one() : await tx.savepoint(one));
    } catch (error) {
      if (batches.length === 1) throw error;
      out.push({ ok: false, error });
    }
  }
  return out;
}

/** Stores and processes the batches' events as one batch; one outcome per batch. */
async function processBatches(tx: CoreWriteTx, batches: readonly StoredEvent[][], p: GroupProcessors, now: () => number): Promise<Outcome[]> {
  const events = batches.length === 1 ? batches[0] : batches.flat();
  const inserted = await tx.insertEvents(events);
  const fresh = events.filter((_, i) => inserted[i]);
  const emitted: StoredEvent[] = [];
  if (fresh.length) {
    const ctx: ProcessContext = { now: now(), tx, policy: await tx.getPolicy(), emit: (e) => emitted.push(e) };
    for (const proc of p.processors) await proc.process(fresh, ctx);
    for (const proc of p.isolatedProcessors) {
      const mark = emitted.length;
      try {
        await tx.savepoint(() => proc.process(fresh, ctx));
      } catch (err) {
        emitted.length = mark;
        p.log.error('processor failed; batch stored without its results', { processor: proc.name, error: String(err) });
      }
    }
    if (emitted.length) await tx.insertEvents(emitted);
  }
  // Per batch: its counts; the group's committed events (incl. derived ones) ride on the first.
  let at = 0;
  return batches.map((batch, j) => {
    let accepted = 0;
    for (let i = 0; i < batch.length; i++) if (inserted[at + i]) accepted++;
    at += batch.length;
    const committed = j === 0 ? fresh.concat(emitted) : [];
    return { ok: true as const, result: { accepted, duplicates: batch.length - accepted }, committed, made: j === 0 ? emitted : [] };
  });
}
