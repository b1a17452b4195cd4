// CSV of the table's rows, safe to open in a spreadsheet.

export interface CsvColumn<R> {
  header: string;
  value: (row: R) => string | number | null;
}

/** Cells a spreadsheet would run as a formula get a leading apostrophe (OWASP CSV injection advice). */
function neutralise(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

export function toCsv<R>(rows: R[], columns: Array<CsvColumn<R>>): string {
  const line = (cells: string[]) => cells.map((c) => quote(neutralise(c))).join(',');
  const out = [line(columns.map((c) => c.header))];
  for (const row of rows) {
    out.push(
      line(
        columns.map((c) => {
          const v = c.value(row);
          return v === null || v === undefined ? '' : String(v);
        })
      )
    );
  }
  return out.join('\r\n') + '\r\n';
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const sessionCsvColumns: Array<CsvColumn<import('./types').SessionViewRow>> = [
  { header: 'session_id', value: (r) => r.id },
  { header: 'user', value: (r) => r.user },
  { header: 'state', value: (r) => r.state },
  { header: 'ip', value: (r) => r.ip },
  { header: 'country', value: (r) => r.country },
  { header: 'city', value: (r) => r.city },
  { header: 'browser', value: (r) => r.browser },
  { header: 'os', value: (r) => r.os },
  { header: 'device', value: (r) => r.device },
  { header: 'device_type', value: (r) => r.deviceType },
  { header: 'service', value: (r) => r.service },
  { header: 'started_at', value: (r) => iso(r.startedAt) },
  { header: 'last_seen_at', value: (r) => iso(r.lastSeenAt) },
  { header: 'ended_at', value: (r) => iso(r.endedAt) },
  { header: 'end_reason', value: (r) => r.endReason },
];

export const lockoutCsvColumns: Array<CsvColumn<import('./types').LockoutViewRow>> = [
  { header: 'user', value: (r) => r.user },
  { header: 'scope', value: (r) => r.scope },
  { header: 'ip', value: (r) => r.ip },
  { header: 'failures', value: (r) => r.failures },
  { header: 'locked_at', value: (r) => iso(r.lockedAt) },
  { header: 'locked_until', value: (r) => iso(r.lockedUntil) },
  { header: 'reason', value: (r) => r.reason },
];

/** Starts a browser download of `text` (a link click: works in every browser Grafana supports). */
export function download(filename: string, href: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function downloadText(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  download(filename, url);
  // Revoke after the click has been handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
