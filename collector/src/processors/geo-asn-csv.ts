// ASN lookup from the ip-location-db "num" CSV files (start,end,asn,organisation), the only
// openly licensed IP→ASN data published on npm (@ip-location-db/asn, CC BY 4.0: RouteViews,
// NRO, DB-IP). Ranges are loaded into typed arrays and searched with a binary search, so a
// lookup allocates nothing and the whole table costs ~10 MB of memory.
import { readFileSync } from 'node:fs';

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

export class AsnCsvTable {
  private readonly orgs: string[] = [];
  private readonly v4: RangeTable<Uint32Array>;
  /** IPv6 keyed by the top 64 bits: routed prefixes are never longer than /64. */
  private readonly v6: RangeTable<BigUint64Array>;

  constructor(ipv4CsvPath: string, ipv6CsvPath: string | null) {
    const orgIds = new Map<string, number>();
    const orgId = (name: string): number => {
      let id = orgIds.get(name);
      if (id === undefined) {
        id = this.orgs.length;
        this.orgs.push(name);
        orgIds.set(name, id);
      }
      return id;
    };
    this.v4 = loadRanges(ipv4CsvPath, orgId, (n) => Number(n), (size) => new Uint32Array(size));
    this.v6 = ipv6CsvPath
      ? loadRanges(ipv6CsvPath, orgId, (n) => BigInt(n) >> 64n, (size) => new BigUint64Array(size))
      : { starts: new BigUint64Array(0), ends: new BigUint64Array(0), asns: new Uint32Array(0), orgIndex: new Uint32Array(0), size: 0 };
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

function loadRanges<A extends Uint32Array | BigUint64Array>(
  path: string,
  orgId: (name: string) => number,
  parse: (decimal: string) => A extends Uint32Array ? number : bigint,
  alloc: (size: number) => A,
): RangeTable<A> {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const starts = alloc(lines.length);
  const ends = alloc(lines.length);
  const asns = new Uint32Array(lines.length);
  const orgIndex = new Uint32Array(lines.length);
  let size = 0;
  for (const line of lines) {
    if (line.length === 0) continue;
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const c3 = line.indexOf(',', c2 + 1);
    if (c1 < 0 || c2 < 0 || c3 < 0) continue;
    const asn = Number(line.slice(c2 + 1, c3));
    if (!Number.isInteger(asn) || asn <= 0) continue;
    let org = line.slice(c3 + 1).trimEnd();
    // RFC 4180 quoting: "Cloudflare, Inc." and "" for a literal quote.
    if (org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
    (starts as unknown as Array<unknown>)[size] = parse(line.slice(0, c1));
    (ends as unknown as Array<unknown>)[size] = parse(line.slice(c1 + 1, c2));
    asns[size] = asn;
    orgIndex[size] = orgId(org);
    size++;
  }
  return { starts, ends, asns, orgIndex, size };
}
