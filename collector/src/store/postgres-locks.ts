// Per-key write locks for the PostgreSQL store. Every write transaction takes the cluster-wide
// write lock SHARED (a write without keys takes it EXCLUSIVE) and then transaction-scoped advisory
// locks for what it touches: one per user, address and session, or — for big batches — one per
// stripe of the key space (so a 1,000-event batch holds at most STRIPES locks, and the server's
// lock table, max_locks_per_transaction × connections, cannot run out). A small writer holds its
// stripes SHARED and its keys EXCLUSIVE, a big one its stripes EXCLUSIVE: a big writer and a small
// one on the same key meet on the stripe, two small ones on the key (intention locking). All are
// taken in one fixed order (global, stripes ascending, keys ascending): no wait cycles.
//
// Lock names fold what the lockout keys fold and more (coarser is safe, only less parallel):
// user names NFC + lower case whatever the policy's case rule; IPv4 by address (truncated
// addresses are stored truncated, so both sides see the same text); IPv6 by /32, the widest
// prefix a policy may count by; session ids as they are.
import { maskAddress, normalizeUser, parseAddress } from '../schema/normalize';
import type { LockKeys } from './store';

/** Cluster-wide write lock ("awwr"): shared by keyed writers, exclusive for the others. */
export const WRITE_LOCK_KEY = 0x61777772;
/** Advisory lock classid of the stripes ("awst"), in the two-int4 lock space. */
export const STRIPE_CLASS = 0x61777374;
export const STRIPES = 128;
/** More distinct keys than this and a writer locks stripes instead. */
export const FINE_LIMIT = 64;
/** Keys other code takes in the one-int8 space; never produced by keyId. */
const RESERVED = new Set<bigint>([BigInt(WRITE_LOCK_KEY), 0x61776d67n /* migrations */, 0x6177706dn /* partitions */]);

export function userLockName(user: string): string {
  return `u\u0000${normalizeUser(user, false)}`;
}

/** Recent ipLockName answers: parsing an address cost ~12 ms per 1,000-event batch, twice. */
const ipNames = new Map<string, string>();
/** Bounded (addresses come from clients): emptied when full. */
const IP_NAMES_MAX = 65_536;

/** Takes an address, a lockout IP key ("2001:db8::/64") or anything else a client sent as "ip". */
export function ipLockName(ip: string): string {
  let name = ipNames.get(ip);
  if (name === undefined) {
    name = ipLockNameOf(ip);
    if (ipNames.size >= IP_NAMES_MAX) ipNames.clear();
    ipNames.set(ip, name);
  }
  return name;
}

function ipLockNameOf(ip: string): string {
  const slash = ip.indexOf('/');
  const addr = parseAddress(slash >= 0 ? ip.slice(0, slash) : ip);
  if (!addr) return `i\u0000raw:${ip}`;
  if (addr.kind() === 'ipv4') return `i\u0000${addr.toString()}`;
  return `i\u0000${maskAddress(addr, 32).toString()}/32`;
}

export function sessionLockName(id: string): string {
  return `s\u0000${id}`;
}

/** The lock names a failure-counter key ("u:<user>", "ui:<user>\x1f<ip>", "i:<ip>") needs. */
export function counterLockNames(key: string): string[] {
  if (key.startsWith('u:')) return [userLockName(key.slice(2))];
  if (key.startsWith('i:')) return [ipLockName(key.slice(2))];
  if (key.startsWith('ui:')) {
    const rest = key.slice(3);
    const sep = rest.lastIndexOf('\u001f');
    return sep < 0 ? [userLockName(rest)] : [userLockName(rest.slice(0, sep)), ipLockName(rest.slice(sep + 1))];
  }
  return [`k\u0000${key}`];
}

/**
 * 64-bit lock key of a name: two 32-bit FNV-1a hashes (different offsets) of its UTF-16 code
 * units. Not a secret: a name crafted to share another's key only makes the two wait for each
 * other, and sha256 per name cost more than the rest of the lock bookkeeping.
 */
export function keyId(name: string): bigint {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  const id = BigInt.asIntN(64, (BigInt(a >>> 0) << 32n) | BigInt(b >>> 0));
  return RESERVED.has(id) ? id ^ 1n : id;
}

export function stripeOf(id: bigint): number {
  return Number(BigInt.asUintN(64, id) % BigInt(STRIPES));
}

/** The locks one write transaction takes up front. */
export interface LockPlan {
  /** No keys: the write lock exclusive, nothing else needed. */
  exclusive: boolean;
  /** true: stripes exclusive, no key locks (a big writer). */
  coarse: boolean;
  stripes: number[];
  keys: bigint[];
}

export function lockNames(k: LockKeys): Set<string> {
  const names = new Set<string>();
  for (const u of k.users ?? []) if (u) names.add(userLockName(u));
  for (const ip of k.ips ?? []) if (ip) names.add(ipLockName(ip));
  for (const s of k.sessions ?? []) if (s) names.add(sessionLockName(s));
  return names;
}

export function planLocks(keys: LockKeys | undefined): LockPlan {
  if (!keys) return { exclusive: true, coarse: false, stripes: [], keys: [] };
  if (keys.everyKey) return { exclusive: false, coarse: true, stripes: Array.from({ length: STRIPES }, (_, i) => i), keys: [] };
  const ids = [...new Set([...lockNames(keys)].map(keyId))].sort(compareBig);
  const stripes = [...new Set(ids.map(stripeOf))].sort((a, b) => a - b);
  if (ids.length > FINE_LIMIT) return { exclusive: false, coarse: true, stripes, keys: [] };
  // A reservation's keys without their stripes (LockKeys.keysOnly); too many keys and it waits like any writer.
  if (keys.keysOnly && ids.length) return { exclusive: false, coarse: false, stripes: [], keys: ids };
  return { exclusive: false, coarse: false, stripes, keys: ids };
}

export function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The locks a transaction holds: its plan plus keys it took later. */
export class HeldLocks {
  private readonly keys: Set<bigint>;
  private readonly xStripes: Set<number>;
  private readonly ids = new Map<string, bigint>();
  private readonly names = new Map<string, string>();

  constructor(
    readonly plan: LockPlan,
    extra: Iterable<bigint> = [],
  ) {
    this.keys = new Set([...(plan.coarse ? [] : plan.keys), ...extra]);
    this.xStripes = new Set(plan.coarse ? plan.stripes : []);
  }

  covers(id: bigint): boolean {
    return this.plan.exclusive || this.keys.has(id) || this.xStripes.has(stripeOf(id));
  }

  coversName(name: string): boolean {
    return this.covers(this.idOf(name));
  }

  /** userLockName, remembered for this transaction (ipLockName has its own process-wide cache). */
  userName(user: string): string {
    let n = this.names.get(user);
    if (n === undefined) {
      n = userLockName(user);
      this.names.set(user, n);
    }
    return n;
  }

  /** keyId, remembered for this transaction (the same names come up once per call). */
  idOf(name: string): bigint {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = keyId(name);
      this.ids.set(name, id);
    }
    return id;
  }

  add(id: bigint): void {
    this.keys.add(id);
  }

  /** Keys taken after the plan (to restore after a savepoint rollback). */
  extras(): bigint[] {
    const planned = new Set(this.plan.coarse ? [] : this.plan.keys);
    return [...this.keys].filter((k) => !planned.has(k));
  }
}
