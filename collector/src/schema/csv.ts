// CSV encoding for exports: RFC 4180 quoting, and spreadsheet formula neutralisation: a text cell
// that a spreadsheet could read as a formula gets a leading ' (shown as text, formula inert).
import type { StoredEvent } from './stored-event';
import { redact } from './redact';

export const CSV_COLUMNS: (keyof StoredEvent)[] = [
  'time', 'id', 'type', 'outcome', 'reason', 'user', 'user_id', 'email', 'session_id', 'ip', 'country', 'city',
  'latitude', 'longitude', 'asn', 'isp', 'user_agent', 'browser', 'browser_version', 'os', 'os_version',
  'device_type', 'device', 'app_version', 'service', 'entry', 'actor', 'received_at', 'attributes',
];

// A formula sign (= + - @, also in the full-width and small forms spreadsheets read as ASCII, and
// the minus sign) first, or any whitespace/control/invisible character first — spreadsheets skip
// leading spaces and line breaks before a formula.
const FORMULA_START = /^(?:[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202f\u2060\ufeff]|[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b\u2212])/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(s)) s = "'" + s;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\r\n';
}

export function csvRow(e: StoredEvent): string {
  let line = '';
  for (let i = 0; i < CSV_COLUMNS.length; i++) {
    const c = CSV_COLUMNS[i];
    const v = c === 'time' || c === 'received_at' ? new Date(e[c]).toISOString() : e[c];
    line += (i ? ',' : '') + csvCell(v);
  }
  return line + '\r\n';
}

/** CSV lines of these events; `hide`: with the network and location details blanked (redact). */
export function csvLines(events: readonly StoredEvent[], hide: boolean): string {
  let out = '';
  for (const e of events) out += csvRow(hide ? redact(e) : e);
  return out;
}
