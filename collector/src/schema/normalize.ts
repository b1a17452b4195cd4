// One place that says when two user names or two addresses are the same. Counting, locking,
// /v1/check, unlock and lockout queries all key on these, so an attacker cannot step around a lock
// by changing case, Unicode form or address spelling (docs/collector.md, "Lockout keys").
import ipaddr from 'ipaddr.js';

/** NFC always; case-folded unless the policy says names are case-sensitive. */
export function normalizeUser(user: string, caseSensitive = false): string {
  const nfc = user.normalize('NFC');
  // toLowerCase is locale-independent (no Turkish dotless-i surprises between hosts).
  return caseSensitive ? nfc : nfc.toLowerCase().normalize('NFC');
}

/** The parsed address, IPv4-mapped IPv6 as IPv4, zone id dropped; null when not an address. */
export function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const pct = ip.indexOf('%');
  const bare = pct >= 0 ? ip.slice(0, pct) : ip;
  if (!ipaddr.isValid(bare)) return null;
  // isValid accepts shorthand IPv4 ("1", "0x7f.1"); only the four-part dotted form is an address here.
  if (!bare.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return null;
  return ipaddr.process(bare);
}

/** One spelling per address: lower-case, compressed, ::ffff:a.b.c.d → a.b.c.d, no zone id. */
export function canonicalIp(ip: string): string | null {
  const a = parseAddress(ip);
  return a ? a.toString() : null;
}

/** Zeroes the host bits beyond `prefix`. */
export function maskAddress(addr: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): ipaddr.IPv4 | ipaddr.IPv6 {
  const bytes = addr.toByteArray();
  for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes) as ipaddr.IPv4 | ipaddr.IPv6;
}

/** Parses "a.b.c.d/n" or "x::/n" (the network is masked); null when not a CIDR. */
export function parseCidr(text: string): { addr: ipaddr.IPv4 | ipaddr.IPv6; prefix: number } | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = parseAddress(text.slice(0, slash));
  const bits = text.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(bits)) return null;
  let prefix = Number(bits);
  // A mapped IPv4 prefix (::ffff:a.b.c.d/120) becomes the IPv4 prefix it names.
  if (addr.kind() === 'ipv4' && text.slice(0, slash).includes(':')) prefix -= 96;
  if (prefix < 0 || prefix > (addr.kind() === 'ipv4' ? 32 : 128)) return null;
  return { addr: maskAddress(addr, prefix), prefix };
}
