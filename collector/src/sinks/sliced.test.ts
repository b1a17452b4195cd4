// A big commit's per-event sink work must leave turns of the event loop to other requests, and must
// still handle every event once, in order.
import { SlicedWork } from './sliced';

test('a large batch is handled a slice at a time, in order, with other callbacks running in between', async () => {
  const seen: number[] = [];
  const work = new SlicedWork<number>((n) => seen.push(n), 100);
  const first = Array.from({ length: 1000 }, (_, i) => i);
  const second = Array.from({ length: 50 }, (_, i) => 1000 + i);
  work.push(first);
  expect(seen).toHaveLength(100); // the first slice at once
  let otherRanAt = -1;
  setImmediate(() => (otherRanAt = seen.length)); // e.g. a /v1/check waiting for its turn
  work.push(second);
  await work.idle();
  expect(seen).toEqual([...first, ...second]);
  expect(otherRanAt).toBeGreaterThan(0);
  expect(otherRanAt).toBeLessThan(1050);
});

test('a small batch is done before push returns; idle() resolves at once when nothing is pending', async () => {
  const seen: string[] = [];
  const work = new SlicedWork<string>((s) => seen.push(s), 100);
  work.push(['a', 'b']);
  expect(seen).toEqual(['a', 'b']);
  await work.idle();
  work.push([]);
  expect(seen).toEqual(['a', 'b']);
});
