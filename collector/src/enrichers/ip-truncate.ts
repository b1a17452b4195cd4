// Optional privacy step (AUTHWATCH_IP_TRUNCATE=1): keep only the network part of the client
// address — IPv4 /24, IPv6 /48, the prefixes Google Analytics' IP anonymisation and most
// web-analytics tools use. Runs after geo lookup, so country/ASN still come from the full address.
import ipaddr from 'ipaddr.js';
import type { Enricher } from '../pipeline/contracts';
import type { StoredEvent } from '../schema/stored-event';
import { IPV4_TRUNCATE_PREFIX, IPV6_TRUNCATE_PREFIX } from '../schema/lock-keys';
import { parseIp } from './geo';

/** The address with host bits zeroed, or the input unchanged when it is not an IP address. */
export function truncateIp(ip: string, v4Prefix = IPV4_TRUNCATE_PREFIX, v6Prefix = IPV6_TRUNCATE_PREFIX): string {
  const addr = parseIp(ip);
  if (!addr) return ip;
  const prefix = addr.kind() === 'ipv4' ? v4Prefix : v6Prefix;
  const bytes = addr.toByteArray();
  for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes).toString();
}

export function createIpTruncateEnricher(v4Prefix = IPV4_TRUNCATE_PREFIX, v6Prefix = IPV6_TRUNCATE_PREFIX): Enricher {
  return {
    name: 'ip_truncate',
    enrich(event: StoredEvent): void {
      if (event.ip) event.ip = truncateIp(event.ip, v4Prefix, v6Prefix);
    },
  };
}
