// Turns an EventFilter into a SQL WHERE clause with "?" parameters, for both stores (the read
// engine writes "?" everywhere; PostgreSQL's executor numbers them, postgres-dialect.ts).
import type { EventFilter } from './store';

export interface SqlWhere {
  /** "" or "WHERE …" */
  where: string;
  params: unknown[];
}

const LIST_COLUMNS = ['user', 'type', 'outcome', 'reason', 'ip', 'service', 'country'] as const;
/** The columns free text (`q`) looks into. */
export const TEXT_COLUMNS: readonly string[] = ['user', 'email', 'ip', 'reason', 'user_agent', 'service'];

/** An event filter as the API builds it. */
export interface SearchFilter extends EventFilter {
  /**
   * Columns `q` must not look into: the hidden details, for keys that may not see them
   * (otherwise a match count would rebuild a hidden IP digit by digit).
   */
  qExclude?: readonly string[];
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** `extra`: more conditions with their parameters; `like`: the case-insensitive operator for `q`. */
export function filterSql(f: SearchFilter, extra: { sql: string; params: unknown[] }[] = [], like: 'LIKE' | 'ILIKE' = 'LIKE'): SqlWhere {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return '?';
  };
  if (f.from !== undefined) clauses.push(`time >= ${p(f.from)}`);
  if (f.to !== undefined) clauses.push(`time < ${p(f.to)}`);
  for (const col of LIST_COLUMNS) {
    const vals = f[col];
    if (!vals || vals.length === 0) continue;
    if (vals.length === 1) clauses.push(`"${col}" = ${p(vals[0])}`);
    else clauses.push(`"${col}" IN (${vals.map((v) => p(v)).join(', ')})`);
  }
  if (f.q) {
    // SQLite's LIKE is already case-insensitive (ASCII) — no lower() per row; PostgreSQL uses ILIKE.
    const pattern = `%${escapeLike(f.q)}%`;
    const columns = f.qExclude ? TEXT_COLUMNS.filter((c) => !f.qExclude!.includes(c)) : TEXT_COLUMNS;
    clauses.push('(' + columns.map((c) => `"${c}" ${like} ${p(pattern)} ESCAPE '\\'`).join(' OR ') + ')');
  }
  for (const e of extra) {
    params.push(...e.params);
    clauses.push(e.sql);
  }
  return { where: clauses.length ? 'WHERE ' + clauses.join(' AND ') : '', params };
}

/** Opaque keyset cursor: the (time, seq) of the last row returned. */
export function encodeCursor(time: number, seq: number): string {
  return Buffer.from(JSON.stringify([time, seq])).toString('base64url');
}

export function decodeCursor(cursor: string): { time: number; seq: number } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1])) {
      return { time: v[0] as number, seq: v[1] as number };
    }
  } catch {
    // fall through
  }
  return null;
}
