// Lockout keys: who a failure counts against and what a lock applies to. One function per kind of
// key, used by counting, locking, /v1/check, attempt reservations, unlock and lockout queries, and
// by the PostgreSQL store to prefetch a batch's counters: pure functions of the names and addresses,
// so they live in schema/ where both decision/ and store/ may import them.
import type { Policy } from './domain';
import { maskAddress, normalizeUser, parseAddress, parseCidr } from './normalize';

// AUTHWATCH_IP_TRUNCATE's prefixes (enrichers/ip-truncate.ts truncates stored addresses to them):
// checks must truncate the same way or a truncated failure and a full-address check differ.
export const IPV4_TRUNCATE_PREFIX = 24;
export const IPV6_TRUNCATE_PREFIX = 48;

export interface KeyRules {
  caseSensitive: boolean;
  ipv6Prefix: number;
  /** AUTHWATCH_IP_TRUNCATE: stored addresses are truncated, so checks must truncate the same way. */
  truncate: boolean;
}

export function keyRules(policy: Pick<Policy, 'user_case_sensitive' | 'ipv6_prefix'>, truncate: boolean): KeyRules {
  return { caseSensitive: policy.user_case_sensitive, ipv6Prefix: policy.ipv6_prefix, truncate };
}

export const userLockKey = (user: string, rules: KeyRules): string => normalizeUser(user, rules.caseSensitive);

/**
 * The key an address is counted and blocked under: the canonical IPv4 address, or the IPv6
 * network of rules.ipv6Prefix ("2001:db8:1:2::/64"; a bare address when the prefix is 128).
 * null when `ip` is not an address.
 */
export function ipLockKey(ip: string, rules: KeyRules): string | null {
  let addr = parseAddress(ip);
  if (!addr) return null;
  if (rules.truncate) addr = truncated(addr);
  if (addr.kind() === 'ipv4' || rules.ipv6Prefix >= 128) return addr.toString();
  return `${maskAddress(addr, rules.ipv6Prefix).toString()}/${rules.ipv6Prefix}`;
}

/**
 * The address as a check's key will hold it, for planning its write locks (the PostgreSQL store
 * names locks by address, and a truncated key is another address): truncated when `truncate`.
 */
export function plannedAddress(ip: string, truncate: boolean): string {
  if (!truncate) return ip;
  const addr = parseAddress(ip);
  return addr ? truncated(addr).toString() : ip;
}

/** The address as AUTHWATCH_IP_TRUNCATE stores it. */
const truncated = (addr: NonNullable<ReturnType<typeof parseAddress>>) => maskAddress(addr, addr.kind() === 'ipv4' ? IPV4_TRUNCATE_PREFIX : IPV6_TRUNCATE_PREFIX);

/**
 * What an admin names to unlock: an address (its lock key) or a CIDR. A CIDR at least as specific
 * as the IPv6 prefix selects that prefix's key; a plain IPv4 /32 is the address.
 */
export function ipUnlockKey(text: string, rules: KeyRules): string | null {
  if (!text.includes('/')) return ipLockKey(text, rules);
  const cidr = parseCidr(text);
  if (!cidr) return null;
  if (cidr.addr.kind() === 'ipv4') return cidr.prefix === 32 ? cidr.addr.toString() : null;
  // A wider IPv6 network spans many keys: unlock its /ipv6Prefix networks one by one.
  return cidr.prefix >= rules.ipv6Prefix ? ipLockKey(cidr.addr.toString(), rules) : null;
}

// Failure-counter keys. U+001F separates the pair: neither user names nor keys can contain it
// unnoticed, and PostgreSQL stores it (it cannot store U+0000).
export const userCounter = (userKey: string) => `u:${userKey}`;
export const userIpCounter = (userKey: string, ipKey: string) => `ui:${userKey}\u001f${ipKey}`;
export const ipCounter = (ipKey: string) => `i:${ipKey}`;

/** The subject of a decision: display values as sent, and their keys. */
export interface Subject {
  user: string | null;
  ip: string | null;
  userKey: string | null;
  ipKey: string | null;
}

export function subjectOf(user: string | null | undefined, ip: string | null | undefined, rules: KeyRules): Subject {
  const u = user || null;
  const i = ip || null;
  return { user: u, ip: i, userKey: u === null ? null : userLockKey(u, rules), ipKey: i === null ? null : ipLockKey(i, rules) };
}

/** The counters a subject's failure goes to: [user, user+ip, ip], null where a part is missing. */
export function counterKeys(s: Subject): { user: string | null; userIp: string | null; ip: string | null } {
  return {
    user: s.userKey === null ? null : userCounter(s.userKey),
    userIp: s.userKey !== null && s.ipKey !== null ? userIpCounter(s.userKey, s.ipKey) : null,
    ip: s.ipKey === null ? null : ipCounter(s.ipKey),
  };
}
