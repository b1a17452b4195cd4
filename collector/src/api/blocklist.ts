// GET /v1/blocklist: the addresses and IPv6 networks blocked now, for enforcement points — a
// firewall set, a proxy's deny list — the way fail2ban actions and CrowdSec bouncers carry blocks
// out (docs/blocklist.md). Read role: the list names blocked client addresses, it is the feed an
// enforcement point polls, not part of a person's self view.
//
// Formats (?format=, else by Accept: JSON when asked for, plain text otherwise):
//   plain     one CIDR per line (nft, ipset restore, scripts); `text` is the same
//   json      {generated_at, count, entries: [{cidr, expires_at (epoch ms, null = permanent), locked_at}]}
//   nginx     "deny CIDR;" lines for an include in a server or location block
//   nftables  a file for `nft -f`: table inet authwatch with sets blocklist_v4 / blocklist_v6
//             (elements with their remaining timeout) and an input chain dropping them; it
//             replaces that table atomically, so loading it again is the sync
// Lock rows are data from the store: every address is parsed and printed again from its bytes, so
// nothing but an address or a network can reach a config file.
import { Router, type Request } from 'express';
import ipaddr from 'ipaddr.js';
import { selfUser } from '../http/auth';
import type { ApiContext } from '../http/context';
import { HttpError } from '../http/errors';
import { IPV4_TRUNCATE_PREFIX, IPV6_TRUNCATE_PREFIX } from '../schema/lock-keys';
import type { LockRow } from '../store/store';
import { choice, onlyParams } from './params';

export const BLOCKLIST_FORMATS = ['plain', 'text', 'json', 'nginx', 'nftables'] as const;
export type BlocklistFormat = (typeof BLOCKLIST_FORMATS)[number];

/** Locks read per request; more in force than this is refused rather than served incomplete. */
export const MAX_LOCK_ROWS = 200_000;
/** nft refuses timeouts it cannot hold; no lock the policy allows comes near (max_lock_seconds ≤ 365 days). */
const MAX_TIMEOUT_S = 400 * 86_400;

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface BlockEntry {
  family: 4 | 6;
  /** The network address (host bits zero). */
  addr: Address;
  prefix: number;
  cidr: string;
  /** Epoch ms; null = until an admin unlocks. */
  expires_at: number | null;
  locked_at: number;
}

/**
 * A lock row's address as a network: "a.b.c.d" (/32, or the truncation prefix when addresses are
 * stored truncated), "x::y" (/128, or the truncation prefix), or "x::/n". null when it is neither.
 */
export function lockNetwork(ip: string, truncated: boolean): { addr: Address; prefix: number } | null {
  // A zone id ("fe80::1%eth0") is no part of a network (and "%" no part of a config file).
  if (ip.includes('%') || ip.length > 64) return null;
  try {
    if (ip.includes('/')) {
      const [a, p] = ipaddr.parseCIDR(ip);
      // An IPv4-mapped IPv6 network is the IPv4 network it names.
      const addr = a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() && p >= 96 ? (a as ipaddr.IPv6).toIPv4Address() : a;
      let prefix = addr === a ? p : p - 96;
      if (truncated && addr.kind() === 'ipv6') prefix = Math.min(prefix, IPV6_TRUNCATE_PREFIX);
      return { addr: network(addr, prefix), prefix };
    }
    if (!ipaddr.isValid(ip) || (!ip.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(ip))) return null;
    const addr = ipaddr.process(ip);
    const prefix = addr.kind() === 'ipv4' ? (truncated ? IPV4_TRUNCATE_PREFIX : 32) : truncated ? IPV6_TRUNCATE_PREFIX : 128;
    return { addr: network(addr, prefix), prefix };
  } catch {
    return null;
  }
}

function network(addr: Address, prefix: number): Address {
  const bytes = addr.toByteArray();
  for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes) as Address;
}

function compareBytes(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * The blocks in force from lock rows: IP-scope locks only (a user lock keeps the address it was
 * earned from, for the record), one entry per network, sorted; a network inside a wider one that
 * is blocked too is left out (an nftables interval set refuses overlaps) — if it outlasts the wider
 * one, the next sync lists it again. Duplicates keep the longest expiry.
 */
export function blockEntries(rows: readonly LockRow[], now: number, truncated: boolean, onBadRow?: (row: LockRow) => void): BlockEntry[] {
  const found: BlockEntry[] = [];
  for (const r of rows) {
    if (r.scope !== 'ip' || r.ip === null || r.unlocked_at !== null || (r.locked_until !== null && r.locked_until <= now)) continue;
    const n = lockNetwork(r.ip, truncated);
    if (!n) {
      onBadRow?.(r);
      continue;
    }
    const family = n.addr.kind() === 'ipv4' ? 4 : 6;
    found.push({ family, addr: n.addr, prefix: n.prefix, cidr: `${n.addr.toString()}/${n.prefix}`, expires_at: r.locked_until, locked_at: r.locked_at });
  }
  found.sort((a, b) => a.family - b.family || compareBytes(a.addr.toByteArray(), b.addr.toByteArray()) || a.prefix - b.prefix);
  const out: BlockEntry[] = [];
  for (const e of found) {
    const last = out[out.length - 1];
    // Same family checked first: the casts only pick match()'s overload.
    if (last && last.family === e.family && last.prefix <= e.prefix && (e.addr as ipaddr.IPv4).match(last.addr as ipaddr.IPv4, last.prefix)) {
      if (last.prefix === e.prefix) {
        if (last.expires_at !== null && (e.expires_at === null || e.expires_at > last.expires_at)) last.expires_at = e.expires_at;
        last.locked_at = Math.min(last.locked_at, e.locked_at);
      }
      continue;
    }
    out.push({ ...e });
  }
  return out;
}

/** Remaining seconds of a block (at least 1), for nft timeouts. */
function remainingSeconds(e: BlockEntry, now: number): number {
  return Math.min(MAX_TIMEOUT_S, Math.max(1, Math.ceil(((e.expires_at as number) - now) / 1000)));
}

export function renderPlain(entries: readonly BlockEntry[]): string {
  return entries.map((e) => `${e.cidr}\n`).join('');
}

export function renderNginx(entries: readonly BlockEntry[], now: number): string {
  return `# Authwatch blocklist: ${entries.length} blocked, generated ${new Date(now).toISOString()}. Include it in an http, server or location block.\n` + entries.map((e) => `deny ${e.cidr};\n`).join('');
}

export function renderNftables(entries: readonly BlockEntry[], now: number): string {
  const set = (name: string, type: string, family: 4 | 6) => {
    const els = entries.filter((e) => e.family === family).map((e) => (e.expires_at === null ? e.cidr : `${e.cidr} timeout ${remainingSeconds(e, now)}s`));
    // An empty "elements = { }" is a syntax error: an empty set has no elements line.
    return [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval,timeout', ...(els.length ? [`\t\telements = { ${els.join(',\n\t\t\t     ')} }`] : []), '\t}'];
  };
  return [
    `# Authwatch blocklist: ${entries.length} blocked, generated ${new Date(now).toISOString()}.`,
    '# nft -f FILE replaces table inet authwatch in one transaction (the first two lines make that work',
    '# whether or not the table exists). Elements expire with their lock; permanent ones have no timeout.',
    'table inet authwatch',
    'delete table inet authwatch',
    'table inet authwatch {',
    ...set('blocklist_v4', 'ipv4_addr', 4),
    ...set('blocklist_v6', 'ipv6_addr', 6),
    '\tchain input {',
    '\t\ttype filter hook input priority filter - 10; policy accept;',
    '\t\tip saddr @blocklist_v4 drop',
    '\t\tip6 saddr @blocklist_v6 drop',
    '\t}',
    '}',
    '',
  ].join('\n');
}

function formatOf(req: Request): BlocklistFormat {
  return choice(req.query, 'format', BLOCKLIST_FORMATS, req.accepts(['text/plain', 'application/json']) === 'application/json' ? 'json' : 'plain');
}

export function blocklistRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/blocklist', ctx.auth('read'), onlyParams('format'), async (req, res) => {
    if (selfUser(req) !== undefined) throw new HttpError(403, 'the blocklist names every blocked address: it is not part of the self view');
    const format = formatOf(req);
    const now = ctx.pipeline.now();
    const rows = await ctx.store.listLockouts({ state: 'locked', now, limit: MAX_LOCK_ROWS + 1 });
    if (rows.length > MAX_LOCK_ROWS) throw new HttpError(503, `more than ${MAX_LOCK_ROWS} locks are in force; the blocklist would be incomplete`);
    let bad = 0;
    const entries = blockEntries(rows, now, ctx.config.ipTruncate, () => bad++);
    if (bad) ctx.log.warn('blocklist: lock rows whose ip is not an address or network were left out', { rows: bad });
    res.set('cache-control', 'no-store');
    if (format === 'json') {
      res.json({ generated_at: now, count: entries.length, entries: entries.map((e) => ({ cidr: e.cidr, expires_at: e.expires_at, locked_at: e.locked_at })) });
      return;
    }
    res.type('text/plain; charset=utf-8');
    res.send(format === 'plain' || format === 'text' ? renderPlain(entries) : format === 'nginx' ? renderNginx(entries, now) : renderNftables(entries, now));
  });
  return r;
}
