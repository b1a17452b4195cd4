// The collector's pipeline contracts: sources hand batches to the pipeline, processors run inside
// one store write transaction (so counting is atomic), sinks see only what was committed.
import type { StoredEvent } from '../schema/stored-event';
import type { CoreWriteTx, Policy } from '../store/store';

export interface ProcessContext {
  /** Clock for this batch (epoch ms); tests move it. */
  now: number;
  /** The store transaction: sessions, locks, counters, reservations, keyed state. */
  tx: CoreWriteTx;
  /** The policy read at the start of this transaction. */
  policy: Policy;
  /** Add a collector-made event (lockout, session_end, detection…) to this batch's commit. */
  emit(event: StoredEvent): void;
}

/** A step that may read/write state in the transaction and emit derived events. */
export interface Processor {
  readonly name: string;
  process(events: StoredEvent[], ctx: ProcessContext): Promise<void>;
}

/** A stateless, synchronous per-event step run before the transaction (validation done). */
export interface Enricher {
  readonly name: string;
  enrich(event: StoredEvent): void;
  /**
   * Data these events need that is still loading (the ASN tables after a start): the pipeline
   * awaits it before enrich(), so the event loop keeps answering checks instead of the enricher
   * loading it in one block. Undefined when nothing is missing.
   */
  prepare?(events: readonly StoredEvent[]): Promise<void> | undefined;
}

/** Receives events after they are durable. Must not throw; must not block the response. */
export interface Sink {
  readonly name: string;
  write(events: readonly StoredEvent[]): void;
  close(): Promise<void>;
}
