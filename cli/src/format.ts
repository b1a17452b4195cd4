// Output for people and for scripts: times in the local zone (TZ), durations, plain tables
// (cli-table3 without borders or colours, so they survive pipes and grep), CSV with the
// collector's own cell encoding.
import Table from 'cli-table3';
import { CliError, EXIT } from './api';
// The collector export's own cell rule (formula neutralisation), not a second copy of it.
import { csvCell } from '@authwatch/collector/dist/schema/csv-cell';

/** The zone times are shown in (TZ, else the system's). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** "2026-06-18 14:03:22" in the local zone; "" for null. */
export function localTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "+02:00" for the local zone at that time. */
export function localOffset(ms: number): string {
  const off = -new Date(ms).getTimezoneOffset();
  return `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** 0:00 today, local zone. */
export function startOfToday(now = Date.now()): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "1h", "7d", "2w" → milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]] : null;
}

/** "1h 5m", "14m 58s", "3s" */
export function humanDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s || !parts.length) parts.push(`${s}s`);
  return parts.slice(0, 2).join(' ');
}

/**
 * A time option: a duration back from now ("1h"), epoch milliseconds, or a date/time
 * ("2026-06-18", "2026-06-18T14:00", RFC 3339; without an offset it is local time).
 */
export function parseTimeOption(text: string, flag: string, now = Date.now()): number {
  const d = parseDuration(text);
  if (d !== null) return now - d;
  if (/^\d{10,}$/.test(text)) return Number(text);
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (local) {
    const [, y, mo, da, h, mi, s] = local;
    return new Date(Number(y), Number(mo) - 1, Number(da), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)).getTime();
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new CliError(`${flag} "${text.slice(0, 40)}": expected a duration (30m, 1h, 7d), a date (2026-06-18), a time (2026-06-18T14:00, RFC 3339) or epoch ms`, EXIT.USAGE);
  return t;
}

export function positiveInt(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${flag} must be a whole number between 1 and ${max}`, EXIT.USAGE);
  return n;
}

/** Repeated or comma-separated values ("--user a --user b,c") as one list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

// Control characters (C0, DEL, C1) and bidirectional overrides: an attacker's user name
// ("\x1b]0;…", "\u202e…") must not drive the terminal or reorder what an admin reads.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text for a terminal: unprintable characters shown as \xNN / \uNNNN escapes. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const PLAIN = {
  chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  style: { head: [] as string[], border: [] as string[], 'padding-left': 0, 'padding-right': 0 },
};

/** A borderless table: a header row in capitals, two spaces between columns. */
export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  // "time (Europe/Paris)" → "TIME (Europe/Paris)": the zone keeps its spelling.
  const t = new Table({ head: head.map((h) => h.replace(/^[^(]*/, (label) => label.toUpperCase())), ...PLAIN });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? '' : printable(String(c)))));
  // Trailing spaces of the last column help no one.
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

/** "key: value" lines, aligned. */
export function keyValues(pairs: Array<[string, string | number]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w)}${v}`).join('\n');
}


/** Rows of objects as CSV; `times` columns are written as RFC 3339 UTC, as the collector's export does. */
export function csv(columns: string[], rows: Array<Record<string, unknown>>, times: ReadonlySet<string>): string {
  const lines = [columns.join(',')];
  for (const r of rows) {
    lines.push(columns.map((c) => (times.has(c) && typeof r[c] === 'number' ? new Date(r[c] as number).toISOString() : csvCell(r[c]))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
