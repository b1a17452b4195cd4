// Public address blocks of large consumer ISPs, used to give simulated people realistic addresses
// (the collector's offline geo enrichment then places them in their home country).

export interface IspBlock {
  country: string;
  isp: string;
  cidr: string;
}

export const HOME_BLOCKS: Record<'DE' | 'GB' | 'US' | 'FR', IspBlock[]> = {
  DE: [
    { country: 'DE', isp: 'Deutsche Telekom', cidr: '84.128.0.0/10' },
    { country: 'DE', isp: 'Deutsche Telekom', cidr: '91.0.0.0/10' },
  ],
  GB: [{ country: 'GB', isp: 'British Telecommunications', cidr: '86.128.0.0/10' }],
  US: [{ country: 'US', isp: 'Comcast Cable', cidr: '73.0.0.0/8' }],
  FR: [{ country: 'FR', isp: 'Orange', cidr: '90.0.0.0/10' }],
};

/** Where the "impossible travel" login comes from: an Australian mobile network. */
export const TRAVEL_BLOCK: IspBlock = { country: 'AU', isp: 'Telstra', cidr: '1.128.0.0/11' };

/** Hosting ranges attackers rent or hide behind. */
export const ATTACK_BLOCKS: IspBlock[] = [
  { country: 'DE', isp: 'Tor exit relays', cidr: '185.220.101.0/24' },
  // DigitalOcean's addresses sit in several of its regions (mostly GB, DE, US).
  { country: 'various', isp: 'DigitalOcean', cidr: '167.99.0.0/16' },
];

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** A random host address inside the block (never the network or broadcast address). */
export function randomAddress(cidr: string, random: () => number = Math.random): string {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const network = ipToInt(base) - (ipToInt(base) % size);
  return intToIp(network + 1 + Math.floor(random() * (size - 2)));
}

export function inBlock(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const size = 2 ** (32 - Number(bitsText));
  const network = ipToInt(base) - (ipToInt(base) % size);
  const n = ipToInt(ip);
  return n >= network && n < network + size;
}
