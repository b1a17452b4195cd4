// The CSV export's rows: its columns, in order, each cell written by csvCell (csv-cell.ts).
import type { StoredEvent } from './stored-event';
import { csvCell } from './csv-cell';
import { redact } from './redact';

/**
 * Rows per chunk of export text: at ~700 bytes a row, 64 rows stay under V8's large-object size
 * (128 kB), so a chunk dies young; 256-row chunks went to the old generation and grew the
 * event-loop thread's heap by 20+ MB during an export, until a full GC.
 */
export const CSV_CHUNK_ROWS = 64;

export const CSV_COLUMNS: (keyof StoredEvent)[] = [
  'time', 'id', 'type', 'outcome', 'reason', 'user', 'user_id', 'email', 'session_id', 'ip', 'country', 'city',
  'latitude', 'longitude', 'asn', 'isp', 'user_agent', 'browser', 'browser_version', 'os', 'os_version',
  'device_type', 'device', 'app_version', 'service', 'entry', 'actor', 'received_at', 'attributes',
];

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
