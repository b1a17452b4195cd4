// Range decomposition for the rollups: which whole buckets of each level answer a time range, and
// which raw ranges are left at the ragged edges.
export type Range = [number, number];

/** Sorted, with touching or overlapping ranges joined. */
export function merged(ranges: Range[]): Range[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * Splits segments (each inside one output bucket) into what each rollup level (bucket sizes
 * `levels`, coarsest first) covers whole and the raw ranges left at the edges: a rollup row is
 * used only when its whole period lies in one segment, so it adds to exactly one output bucket.
 */
export function decompose(segments: Range[], levels: readonly number[]): { levels: Range[][]; raw: Range[] } {
  const out: Range[][] = levels.map(() => []);
  const raw: Range[] = [];
  const split = (s: number, e: number, level: number): void => {
    if (s >= e) return;
    if (level >= levels.length) {
      raw.push([s, e]);
      return;
    }
    const ms = levels[level];
    const a = Math.ceil(s / ms) * ms;
    const b = Math.floor(e / ms) * ms;
    if (a >= b) return split(s, e, level + 1);
    out[level].push([a, b]);
    split(s, a, level + 1);
    split(b, e, level + 1);
  };
  for (const [s, e] of segments) split(s, e, 0);
  return { levels: out.map(merged), raw: merged(raw) };
}

/** The whole filter range; open ends cover everything stored (times lie within ±2^53). */
export function wholeRange(from: number | undefined, to: number | undefined): Range[] {
  return [[from ?? -Number.MAX_SAFE_INTEGER, to ?? Number.MAX_SAFE_INTEGER]];
}

/** One segment per output bucket of `intervalMs` over [from, to). */
export function bucketSegments(from: number, to: number, intervalMs: number): Range[] {
  const out: Range[] = [];
  for (let b = Math.floor(from / intervalMs) * intervalMs; b < to; b += intervalMs) out.push([Math.max(from, b), Math.min(to, b + intervalMs)]);
  return out;
}
