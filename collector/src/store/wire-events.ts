// How a group's events cross between the main thread and the SQLite writer thread. Copying a
// 1,000-event group in one message held the main thread several milliseconds each way (and 10–20
// on a busy machine), so:
//  - to the writer: JSON slices of WIRE_SLICE events, each its own message with a turn of the
//    event loop between them (/v1/check is answered meanwhile); the writer parses each on arrival;
//  - back: the committed events the main thread sent are named by their index in the group, and
//    only the events the processors made (lockouts, detections: a few) are copied.
// StoredEvent is plain JSON data (the wire contract), so the text loses nothing.
import type { StoredEvent } from '../schema/stored-event';

export const WIRE_SLICE = 200;

/** A committed event: its index among the group's events (batches in order), or a new event. */
export type CommittedRef = number | StoredEvent;

/** Writer side: names the group's own events by index. */
export function toRefs(committed: readonly StoredEvent[], indexOf: ReadonlyMap<StoredEvent, number>): CommittedRef[] {
  return committed.map((e) => indexOf.get(e) ?? e);
}

/**
 * Main side: a group's events as the JSON slices sent to the writer (WIRE_SLICE events each, per
 * batch). The group's objects are let go once sent: they would otherwise live until the commit
 * returns and be copied by every young-generation GC meanwhile (docs/bench.md, P3-load).
 */
export class SentGroup {
  private readonly starts: number[] = [];
  private readonly slices: string[][] = [];
  private total = 0;

  /** Adds a batch's slices (in order) of `count` events. */
  add(slices: string[], count: number): void {
    this.starts.push(this.total);
    this.slices.push(slices);
    this.total += count;
  }

  /**
   * The committed events again: those the main thread sent parsed back from their slice, and the
   * processors' own as they came. The one change processing makes to a sent event is made here
   * too: the lockout processor takes its attempt_id (settled, never stored or passed on).
   * A turn of the event loop after every WIRE_SLICE events parsed: parsing a 2,000-event group back
   * in one go held the event loop ~10 ms (bench/loop-trace.mjs, 2026-11-27), a check waiting behind.
   * sqlite-worker-ingest.test.ts compares every committed event with the in-process store's.
   */
  async committed(refs: readonly CommittedRef[]): Promise<StoredEvent[]> {
    // Each slice parsed once, when first named.
    const parsed: StoredEvent[][][] = [];
    let sinceTurn = 0;
    const out: StoredEvent[] = new Array(refs.length);
    // The batch of the last index: the indices come (mostly) in order, so a group of many small
    // batches is not searched from its end for every event.
    let b = 0;
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (typeof r !== 'number') {
        out[i] = r;
        continue;
      }
      while (b + 1 < this.starts.length && this.starts[b + 1] <= r) b++;
      while (this.starts[b] > r) b--;
      const at = r - this.starts[b];
      const slice = Math.floor(at / WIRE_SLICE);
      const batch = (parsed[b] ??= []);
      let events = batch[slice];
      if (!events) {
        if (sinceTurn >= WIRE_SLICE) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sinceTurn = 0;
        }
        events = batch[slice] = JSON.parse(this.slices[b][slice]) as StoredEvent[];
        sinceTurn += events.length;
      }
      const e = events[at % WIRE_SLICE];
      if (e.attempt_id !== undefined) delete e.attempt_id;
      out[i] = e;
    }
    return out;
  }
}
