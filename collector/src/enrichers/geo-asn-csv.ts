// ASN lookup from the ip-location-db "num" CSV files (start,end,asn,organisation), the only
// openly licensed IP→ASN data published on npm (@ip-location-db/asn, CC BY 4.0: RouteViews,
// NRO, DB-IP). Ranges are loaded into typed arrays and searched with a binary search, so a
// lookup allocates nothing and the whole table costs ~10 MB of memory.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface AsnInfo {
  asn: number;
  organisation: string | null;
}

/** One address family: sorted, non-overlapping ranges. */
interface RangeTable<N> {
  starts: N;
  ends: N;
  asns: Uint32Array;
  orgIndex: Uint32Array;
  size: number;
}

export interface AsnParts {
  orgs: string[];
  v4: RangeTable<Uint32Array>;
  v6: RangeTable<BigUint64Array>;
}

/**
 * Builds the tables step by step: each `next()` does a bounded piece (~RANGE_STEP rows) so that a
 * background load can give the event loop back between pieces (loadInSlices); a caller that needs
 * the table now runs it to the end (the constructor).
 */
function* asnParts(v4: Buffer, v6: Buffer | null): Generator<void, AsnParts> {
  const orgs: string[] = [];
  const orgIds = new Map<string, number>();
  const orgId = (name: string): number => {
    let id = orgIds.get(name);
    if (id === undefined) {
      id = orgs.length;
      orgs.push(name);
      orgIds.set(name, id);
    }
    return id;
  };
  const t4 = yield* loadRanges(v4, orgId, decimalNumber, (size) => new Uint32Array(size));
  const t6 = v6
    ? yield* loadRanges(v6, orgId, (b, s, e) => BigInt(b.toString('latin1', s, e)) >> 64n, (size) => new BigUint64Array(size))
    : { starts: new BigUint64Array(0), ends: new BigUint64Array(0), asns: new Uint32Array(0), orgIndex: new Uint32Array(0), size: 0 };
  return { orgs, v4: t4, v6: t6 };
}

function runToEnd<T>(g: Generator<void, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** Event-loop time a background load may take before it yields (ms). */
const SLICE_MS = 2;

export class AsnCsvTable {
  private readonly orgs: string[];
  private readonly v4: RangeTable<Uint32Array>;
  /** IPv6 keyed by the top 64 bits: routed prefixes are never longer than /64. */
  private readonly v6: RangeTable<BigUint64Array>;

  /** Loads both files now (synchronously). */
  constructor(ipv4CsvPath: string, ipv6CsvPath: string | null, parts?: AsnParts) {
    const p = parts ?? runToEnd(asnParts(readFileSync(ipv4CsvPath), ipv6CsvPath ? readFileSync(ipv6CsvPath) : null));
    this.orgs = p.orgs;
    this.v4 = p.v4;
    this.v6 = p.v6;
  }

  /**
   * The same table, built in slices of ~2 ms with a turn of the event loop between them: loading
   * takes ~1 s of CPU, which in one piece would stall every /v1/check for as long.
   */
  static async loadInSlices(ipv4CsvPath: string, ipv6CsvPath: string | null, done?: () => AsnCsvTable | undefined): Promise<AsnCsvTable> {
    const [v4, v6] = await Promise.all([readFile(ipv4CsvPath), ipv6CsvPath ? readFile(ipv6CsvPath) : null]);
    const g = asnParts(v4, v6);
    let sliceStart = performance.now();
    for (;;) {
      const r = g.next();
      if (r.done) return new AsnCsvTable(ipv4CsvPath, ipv6CsvPath, r.value);
      if (performance.now() - sliceStart >= SLICE_MS) {
        // A referenced immediate: an unref'd one does not wake an idle event loop, so a batch
        // waiting for this load (Enricher.prepare) would wait for unrelated I/O to come along.
        await new Promise<void>((resolve) => setImmediate(resolve));
        // Loaded meanwhile by a caller that could not wait: stop here.
        const loaded = done?.();
        if (loaded) return loaded;
        sliceStart = performance.now();
      }
    }
  }

  get rangeCount(): number {
    return this.v4.size + this.v6.size;
  }

  /** bytes: 4 for IPv4, 16 for IPv6 (network order). */
  lookup(bytes: number[]): AsnInfo | null {
    if (bytes.length === 4) {
      const n = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
      return this.find(this.v4, n);
    }
    let hi = 0n;
    for (let i = 0; i < 8; i++) hi = (hi << 8n) | BigInt(bytes[i]);
    return this.find(this.v6, hi);
  }

  private find<V extends number | bigint>(t: RangeTable<ArrayLike<V>>, key: V): AsnInfo | null {
    let lo = 0;
    let hi = t.size - 1;
    let hit = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (t.starts[mid] <= key) {
        hit = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (hit < 0 || t.ends[hit] < key) return null;
    const org = this.orgs[t.orgIndex[hit]];
    return { asn: t.asns[hit], organisation: org === '' ? null : org };
  }
}

/** An unsigned decimal that fits a double (IPv4 as a number), read straight from the bytes. */
function decimalNumber(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + (buf[i] - 48);
  return n;
}

/** Rows between the points where a sliced load may yield. */
const RANGE_STEP = 2000;

function* loadRanges<A extends Uint32Array | BigUint64Array>(
  buf: Buffer,
  orgId: (name: string) => number,
  parse: (buf: Buffer, start: number, end: number) => number | bigint,
  alloc: (size: number) => A,
): Generator<void, RangeTable<A>> {
  // Scan the bytes instead of splitting a 20 MB string into lines: startup stays fast and the
  // transient memory small.
  let rows = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 10) rows++;
    if ((i & 0xfffff) === 0xfffff) yield;
  }
  rows++;
  const starts = alloc(rows);
  const ends = alloc(rows);
  const asns = new Uint32Array(rows);
  const orgIndex = new Uint32Array(rows);
  const put = (arr: A, i: number, v: number | bigint) => ((arr as unknown as (number | bigint)[])[i] = v);
  let size = 0;
  let pos = 0;
  let step = 0;
  while (pos < buf.length) {
    if (++step === RANGE_STEP) {
      step = 0;
      yield;
    }
    let eol = buf.indexOf(10, pos);
    if (eol < 0) eol = buf.length;
    const c1 = buf.indexOf(44, pos);
    const c2 = c1 < 0 ? -1 : buf.indexOf(44, c1 + 1);
    const c3 = c2 < 0 ? -1 : buf.indexOf(44, c2 + 1);
    if (c1 > 0 && c3 > 0 && c3 < eol) {
      let asn = 0;
      for (let i = c2 + 1; i < c3; i++) asn = asn * 10 + (buf[i] - 48);
      let orgStart = c3 + 1;
      let orgEnd = eol > orgStart && buf[eol - 1] === 13 ? eol - 1 : eol;
      let org: string;
      // RFC 4180 quoting: "Cloudflare, Inc." and "" for a literal quote.
      if (buf[orgStart] === 34 && buf[orgEnd - 1] === 34) {
        orgStart++;
        orgEnd--;
        org = buf.toString('utf8', orgStart, orgEnd).replace(/""/g, '"');
      } else org = buf.toString('utf8', orgStart, orgEnd);
      if (asn > 0) {
        put(starts, size, parse(buf, pos, c1));
        put(ends, size, parse(buf, c1 + 1, c2));
        asns[size] = asn;
        orgIndex[size] = orgId(org);
        size++;
      }
    }
    pos = eol + 1;
  }
  return { starts, ends, asns, orgIndex, size };
}
