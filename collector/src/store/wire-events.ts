// Events crossing between the main thread and the SQLite writer thread as JSON text in slices:
// structured clone of a 1,000-event group held the main thread 7–12 ms in one piece (each way),
// while a slice of WIRE_SLICE events is a short task and the thread answers /v1/check between
// slices. StoredEvent is plain JSON data (the wire contract), so the text loses nothing.
import type { StoredEvent } from '../schema/stored-event';

export const WIRE_SLICE = 200;

const turn = () => new Promise<void>((r) => setImmediate(r));

/** JSON slices of the events; with `pace`, a turn of the event loop between slices. */
export async function encodeEvents(events: readonly StoredEvent[], pace = true): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < events.length; i += WIRE_SLICE) {
    if (i && pace) await turn();
    out.push(JSON.stringify(events.length <= WIRE_SLICE ? events : events.slice(i, i + WIRE_SLICE)));
  }
  return out;
}

export function encodeEventsSync(events: readonly StoredEvent[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < events.length; i += WIRE_SLICE) out.push(JSON.stringify(events.length <= WIRE_SLICE ? events : events.slice(i, i + WIRE_SLICE)));
  return out;
}

export async function decodeEvents(slices: readonly string[], pace = true): Promise<StoredEvent[]> {
  if (slices.length === 1) return JSON.parse(slices[0]) as StoredEvent[];
  const out: StoredEvent[] = [];
  for (let i = 0; i < slices.length; i++) {
    if (i && pace) await turn();
    for (const e of JSON.parse(slices[i]) as StoredEvent[]) out.push(e);
  }
  return out;
}

export function decodeEventsSync(slices: readonly string[]): StoredEvent[] {
  return slices.length === 1 ? (JSON.parse(slices[0]) as StoredEvent[]) : slices.flatMap((s) => JSON.parse(s) as StoredEvent[]);
}
