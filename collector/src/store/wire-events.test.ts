// The main thread lets a group's event objects go once sent and reads the committed ones back from
// the JSON slices it sent: every index must come back as the very event it named.
import { blankEvent, type StoredEvent } from '../schema/stored-event';
import { SentGroup, WIRE_SLICE } from './wire-events';

const batch = (tag: string, n: number): StoredEvent[] =>
  Array.from({ length: n }, (_, i) =>
    blankEvent({ id: `${tag}-${i}`, time: 1_700_000_000_000 + i, type: 'login', outcome: 'failure', user: `${tag}user${i}`, ip: '198.51.100.7' }),
  );

/** Sends batches as the SQLite worker store does: WIRE_SLICE events per slice, then the arrays emptied. */
function send(batches: StoredEvent[][]): SentGroup {
  const sent = new SentGroup();
  for (const events of batches) {
    const texts: string[] = [];
    for (let i = 0; i < events.length; i += WIRE_SLICE) texts.push(JSON.stringify(events.slice(i, i + WIRE_SLICE)));
    sent.add(texts, events.length);
    events.length = 0;
  }
  return sent;
}

/** fn's result and how many turns the event loop took while it ran. */
async function withTurns<T>(fn: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    turns++;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { value: await fn(), turns };
  } finally {
    done = true;
  }
}

test('every index of a group of several batches, some over a slice long, comes back as its event', async () => {
  const batches = [batch('a', 2 * WIRE_SLICE + 50), batch('b', 1), batch('c', WIRE_SLICE), batch('d', 3)];
  const copies = batches.map((b) => b.map((e) => ({ ...e })));
  copies[2][5].attempt_id = 'attempt-0001';
  batches[2][5].attempt_id = 'attempt-0001';
  const flat = copies.flat();
  const sent = send(batches);
  expect(batches.every((b) => b.length === 0)).toBe(true);
  const made = blankEvent({ id: 'detection-1', time: 1, type: 'detection', user: 'x' });
  // Every sent event in a shuffled order, and one the processors made.
  const refs = [...flat.keys()].sort((x, y) => ((x * 7919) % 457) - ((y * 7919) % 457));
  const back = await sent.committed([...refs, made]);
  expect(back.slice(0, -1)).toEqual(
    refs.map((i) => {
      const { attempt_id: _settled, ...rest } = flat[i];
      return rest;
    }),
  );
  expect(back[back.length - 1]).toBe(made);
  // The settled attempt's id is not passed on.
  expect(back.find((e) => e.id === 'c-5')).not.toHaveProperty('attempt_id');
});

test('a group is parsed back a slice per turn of the event loop, so a waiting check is answered in between', async () => {
  const n = 10 * WIRE_SLICE;
  const flat = batch('e', n).map((e) => ({ ...e }));
  const sent = send([batch('e', n)]);
  const { value: back, turns } = await withTurns(() => sent.committed([...flat.keys()]));
  expect(back).toEqual(flat);
  // 10 slices: a turn before each but the first.
  expect(turns).toBeGreaterThanOrEqual(9);
});

test('a group of 1,000 one-event batches comes back whole, with a turn per WIRE_SLICE events rather than per batch', async () => {
  const batches = Array.from({ length: 1000 }, (_, i) => batch(`s${i}-`, 1));
  const flat = batches.map((b) => ({ ...b[0] }));
  const sent = send(batches);
  const { value: back, turns } = await withTurns(() => sent.committed([...flat.keys()]));
  expect(back).toEqual(flat);
  expect(turns).toBeGreaterThanOrEqual(1000 / WIRE_SLICE - 1);
  expect(turns).toBeLessThanOrEqual(1000 / WIRE_SLICE + 1);
});
