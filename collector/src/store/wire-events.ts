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
 * Main side: the committed events again, from the group it sent. The one change processing makes
 * to an event is made here too: the lockout processor takes its attempt_id (settled, never stored
 * or passed on). sqlite-worker-ingest.test.ts compares every committed event with the in-process store's.
 */
export function fromRefs(refs: readonly CommittedRef[], group: readonly StoredEvent[][]): StoredEvent[] {
  const flat = group.length === 1 ? group[0] : group.flat();
  return refs.map((r) => {
    if (typeof r !== 'number') return r;
    const e = flat[r];
    if (e.attempt_id !== undefined) delete e.attempt_id;
    return e;
  });
}
