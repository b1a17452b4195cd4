// Timeseries buckets summed from several pieces (rollup tables and raw events) into one series:
// the same bucket and group key from two pieces add up; an empty key ('' in the rollups) is null.
export interface Bucket {
  bucket: number;
  key: string | null;
  count: number;
}

export class BucketSums {
  private readonly out = new Map<string, Bucket>();

  add(rows: Bucket[]): void {
    for (const r of rows) {
      const key = r.key === '' ? null : r.key;
      const k = `${r.bucket}\u0000${key ?? ''}\u0000${key === null ? 0 : 1}`;
      const cur = this.out.get(k);
      if (cur) cur.count += r.count;
      else this.out.set(k, { bucket: r.bucket, key, count: r.count });
    }
  }

  /** By bucket, then key. */
  sorted(): Bucket[] {
    return [...this.out.values()].sort((a, b) => a.bucket - b.bucket || String(a.key).localeCompare(String(b.key)));
  }
}
