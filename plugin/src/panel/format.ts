// Small display helpers for the sessions and lockouts tables.

/** ISO 3166-1 alpha-2 code → flag emoji (regional indicator pair); undefined for anything else. */
export function flagEmoji(country: string | null): string | undefined {
  if (!country || !/^[A-Za-z]{2}$/.test(country)) {
    return undefined;
  }
  const base = 0x1f1e6 - 'A'.charCodeAt(0);
  const upper = country.toUpperCase();
  return String.fromCodePoint(base + upper.charCodeAt(0), base + upper.charCodeAt(1));
}

let regionNames: Intl.DisplayNames | undefined;

/** "DE" → "Germany"; "private" stays a word; unknown codes are shown as they are. */
export function countryName(country: string | null): string {
  if (!country) {
    return '';
  }
  if (country.toLowerCase() === 'private') {
    return 'Private network';
  }
  if (/^[A-Za-z]{2}$/.test(country)) {
    try {
      regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
      return regionNames.of(country.toUpperCase()) ?? country;
    } catch {
      return country.toUpperCase();
    }
  }
  return country;
}

export function isPrivateCountry(country: string | null): boolean {
  return country?.toLowerCase() === 'private';
}

/** snake_case reason codes → "Sentence case". */
export function humanize(code: string | null): string {
  if (!code) {
    return '';
  }
  const words = code.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Remaining time as "1d 2h", "2h 05m", "4m 09s", "12s". */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) {
    return `${d}d ${h}h`;
  }
  if (h > 0) {
    return `${h}h ${pad(m)}m`;
  }
  if (m > 0) {
    return `${m}m ${pad(s)}s`;
  }
  return `${s}s`;
}

export const scopeLabels: Record<string, string> = {
  user: 'Account',
  user_ip: 'Account + IP',
  ip: 'IP address',
};
