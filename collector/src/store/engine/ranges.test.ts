// The rollup decomposition both stores count with: every millisecond of the asked range is counted
// exactly once (by one rollup level or by the raw events), and a rollup bucket is used only whole
// and inside one output bucket, so a series never moves a count into the wrong bucket.
import { bucketSegments, decompose, wholeRange, type Range } from './ranges';

const HOUR = 3_600_000;
const TEN_MIN = 600_000;
const MINUTE = 60_000;

/** A small deterministic generator, so a failure names its case. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function covered(p: { levels: Range[][]; raw: Range[] }): Range[] {
  return [...p.levels.flat(), ...p.raw].sort((a, b) => a[0] - b[0]);
}

describe('rollup range decomposition', () => {
  test('random ranges and intervals: each millisecond once, whole buckets inside one output bucket', () => {
    const rand = rng(17);
    const levels = [HOUR, TEN_MIN, MINUTE];
    for (let i = 0; i < 500; i++) {
      const from = Math.floor(rand() * 30 * 86_400_000) + 1_700_000_000_000;
      const to = from + Math.floor(rand() * 3 * 86_400_000);
      const interval = [MINUTE, 7 * MINUTE, TEN_MIN, HOUR, 90 * MINUTE, 86_400_000][i % 6];
      const segments = bucketSegments(from, to, interval);
      const p = decompose(segments, levels);
      // Pieces tile [from, to) with no gap and no overlap.
      const gaps: Range[] = [];
      let at = from;
      for (const [a, b] of covered(p)) {
        if (a !== at || b <= a) gaps.push([at, a]);
        at = b;
      }
      expect({ case: i, gaps, end: at }).toEqual({ case: i, gaps: [], end: from < to ? to : from });
      // Rollup ranges are whole buckets of their level, and each bucket lies in one output bucket.
      const split: number[] = [];
      p.levels.forEach((ranges, l) => {
        for (const [a, b] of ranges) {
          if (a % levels[l] || b % levels[l]) split.push(a);
          for (let s = a; s < b; s += levels[l]) if (Math.floor(s / interval) !== Math.floor((s + levels[l] - 1) / interval)) split.push(s);
        }
      });
      expect({ case: i, split }).toEqual({ case: i, split: [] });
    }
  });

  test('an open range is answered from the coarsest level, minutes and raw rows only at the edges', () => {
    const p = decompose(wholeRange(5 * HOUR + 30_000, undefined), [HOUR, MINUTE]);
    expect(p.levels[0]).toEqual([[6 * HOUR, Math.floor(Number.MAX_SAFE_INTEGER / HOUR) * HOUR]]);
    expect(p.levels[1][0]).toEqual([5 * HOUR + MINUTE, 6 * HOUR]);
    expect(p.raw[0]).toEqual([5 * HOUR + 30_000, 5 * HOUR + MINUTE]);
  });
});
