// journald's JSON export (`journalctl -o json`, one object per line) → the head and message of an
// sshd record. Fields used: __REALTIME_TIMESTAMP (µs since the epoch; receive time when absent),
// _HOSTNAME, _PID (else SYSLOG_PID), SYSLOG_IDENTIFIER (else _COMM), MESSAGE (a string, or an
// array of bytes when it is not UTF-8), __CURSOR (the event ids, so a re-import stores nothing twice).
import type { LineHead } from './authlog-lines';

const PROGRAMS = new Set(['sshd', 'sshd-session', 'sshd-auth']);

export interface JournalRecord {
  head: LineHead;
  program: string;
  message: string;
}

/** Field values are strings; journalctl prints non-UTF-8 values as byte arrays and huge ones as null. */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length <= 65_536 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Buffer.from(v as number[]).toString('utf8');
  return null;
}

/**
 * One line of `journalctl -o json` → the sshd record, null when it is another program's, or
 * 'malformed' when the line is not a journald JSON object.
 */
export function parseJournalLine(line: string, receivedAt: number): JournalRecord | null | 'malformed' {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return 'malformed';
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'malformed';
  const r = o as Record<string, unknown>;
  const program = text(r.SYSLOG_IDENTIFIER) ?? text(r._COMM);
  if (program === null || !PROGRAMS.has(program)) return null;
  const message = text(r.MESSAGE);
  const pid = text(r._PID) ?? text(r.SYSLOG_PID);
  if (message === null || pid === null || !/^\d{1,10}$/.test(pid)) return null;
  const us = text(r.__REALTIME_TIMESTAMP);
  const time = us !== null && /^\d{1,19}$/.test(us) ? Math.floor(Number(us) / 1000) : receivedAt;
  const host = text(r._HOSTNAME) ?? '-';
  const cursor = text(r.__CURSOR);
  return { head: { time, host: host.slice(0, 255), pid, key: cursor === null ? line : `journal:${cursor}` }, program, message };
}
