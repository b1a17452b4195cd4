// PostgreSQL's side of the read engine (engine/dialect.ts): "$n" placeholders, free text through
// a pg_trgm index (migration 4) with SQLite's matching rules, arrays for lists and ranges, bigint division for buckets, byte-order
// sorting as SQLite sorts, jsonb attributes. Also how a statement runs, and how an export streams.
import pg from 'pg';
import type { QueryResultRow } from 'pg';
import type { Dialect } from './engine/dialect';
import type { StoredEvent } from '../schema/stored-event';
import { runAsync, type Clause, type Plan, type Stmt } from './engine/plan';
import { escapeLike } from './filter-sql';
import { cubePlan } from './engine/rollups';
import { Q_COLUMNS_V4, Q_TEXT_V4 } from './migrations/postgres';
import { createLogger, type Logger } from '../log';
import { pgParam } from './postgres-text';
import { eventMapper, type Attributes, type Row } from './rows';

// bigint (counts, epoch ms, seq) and numeric (sums) as JS numbers: every value we store fits in 2^53.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Something that runs a query: a pool, or a transaction's client. */
export interface Queryable {
  query<R extends QueryResultRow = Row>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The same queries with every string parameter made storable (see postgres-text.ts). */
export function cleaned(db: Queryable): Queryable {
  return { query: <R extends QueryResultRow = Row>(sql: string, params?: unknown[]) => db.query<R>(sql, params?.map(pgParam)) };
}

/**
 * The engine's "?" placeholders as $1, $2, … (the engine never writes "?" inside a literal or an
 * identifier: values are always bound).
 */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export const rowsOf = (db: Queryable) => async (s: Stmt): Promise<Row[]> => (await db.query(numbered(s.sql), s.params.map(pgParam))).rows;

const anyOf = (col: string, vals: readonly unknown[]) => ({ sql: `${col} = ANY(?::text[])`, params: [vals] });

export const pgDialect: Dialect = {
  contains: (column, q) => ({ sql: `${foldedColumn(column)} LIKE ? ESCAPE '\\'`, params: [`%${foldedPattern(q)}%`] }),
  byteOrder: ' COLLATE "C"',
  userLastSeen: false,
  inList: anyOf,
  floor: (expr) => `(${expr} / ?::bigint) * ?::bigint`,
  ranges: (list) => ({ sql: 'WITH r(a, b) AS (SELECT * FROM unnest(?::bigint[], ?::bigint[]))', params: [list.map((r) => r[0]), list.map((r) => r[1])] }),
  after: (cmp, time, seq) => ({ sql: `("time", seq) ${cmp} (?, ?)`, params: [time, seq] }),
  *textSearch(q, columns) {
    return textClause(q, columns);
  },
  rollups: (filter, group) => cubePlan(filter, group, anyOf),
  // jsonb arrives parsed.
  rowToEvent: eventMapper((v) => (v ?? null) as Attributes | null),
};

/** One column as `q` compares it: ASCII letters lowered ("C" collation), as SQLite's LIKE folds. */
const foldedColumn = (col: string) => `lower("${col}" COLLATE "C")`;

/** q as a LIKE pattern body for a folded column: wildcards escaped, ASCII letters lowered. */
const foldedPattern = (q: string) => escapeLike(q).replace(/[A-Z]+/g, (s) => s.toLowerCase());

/**
 * Free text with SQLite's answers: a substring of one of the columns, ASCII case-insensitive
 * (LIKE over "C"-lowered text with a lowered pattern), `%`, `_` and `\` literal. Written so the
 * planner can use the trigram index of migration 4: one LIKE over the joined columns (Q_TEXT_V4).
 * A q with no newline matches the joined text exactly when it matches one column, so that
 * condition alone is the answer; otherwise (a newline in q, fewer columns for a key that may not
 * see the hidden details) it narrows through the index and the per-column condition decides.
 * Without three letters or digits in a row q has no trigram the index could look up: the
 * per-column condition alone, a scan, as without pg_trgm.
 */
export function textClause(q: string, columns: readonly string[]): Clause {
  // SQLite's LIKE reads the pattern up to its first U+0000: "%ab\0cd%" is "%ab" there. The same
  // answers here (PostgreSQL cannot even carry U+0000 in text).
  const nul = q.indexOf('\u0000');
  const text = nul < 0 ? q : q.slice(0, nul);
  const lowered = foldedPattern(text);
  const pattern = nul < 0 ? `%${lowered}%` : `%${lowered}`;
  if (!columns.length) return { sql: 'false', params: [] };
  const perColumn = { sql: '(' + columns.map((c) => `${foldedColumn(c)} LIKE ? ESCAPE '\\'`).join(' OR ') + ')', params: columns.map(() => pattern) };
  const indexable = /[\p{L}\p{N}]{3}/u.test(text) && columns.every((c) => Q_COLUMNS_V4.includes(c));
  if (!indexable) return perColumn;
  const joined = { sql: `${Q_TEXT_V4} LIKE ? ESCAPE '\\'`, params: [`%${lowered}%`] };
  const exact = nul < 0 && !text.includes('\n') && columns.length === Q_COLUMNS_V4.length;
  return exact ? joined : { sql: `${joined.sql} AND ${perColumn.sql}`, params: [...joined.params, ...perColumn.params] };
}

/** Whether events carry the trigram index of migration 4 (it is skipped where pg_trgm is unavailable). */
export async function hasTextIndex(db: Queryable): Promise<boolean> {
  const r = await db.query<{ ok: boolean }>(`SELECT to_regclass('events_q_trgm') IS NOT NULL AS ok`);
  return r.rows[0].ok;
}

/** At startup: one warning when free text has no index (q still answers, by scanning). */
export async function warnIfNoTextIndex(db: Queryable, log: Logger = createLogger()): Promise<boolean> {
  if (await hasTextIndex(db)) return true;
  log.warn('free-text search (q) has no index: the pg_trgm extension was not available when the collector migrated, so q scans the events table. See docs/collector.md, "Free-text search on PostgreSQL".');
  return false;
}

/** Rows per FETCH when streaming an export. */
const STREAM_BATCH = 500;

/** Every row of the statement the plan ends with, through a server-side cursor on a client of its own. */
export async function* streamEvents(pool: pg.Pool, plan: Plan<Stmt>): AsyncIterable<StoredEvent> {
  // At most STREAM_BATCH rows in memory at a time.
  const c = await pool.connect();
  let ok = false;
  try {
    const s = await runAsync(plan, rowsOf(c));
    await c.query('BEGIN READ ONLY');
    await c.query(`DECLARE export_cursor NO SCROLL CURSOR FOR ${numbered(s.sql)}`, s.params.map(pgParam));
    for (;;) {
      const batch = await c.query(`FETCH ${STREAM_BATCH} FROM export_cursor`);
      for (const row of batch.rows) yield pgDialect.rowToEvent(row as Row);
      if (batch.rows.length < STREAM_BATCH) break;
    }
    ok = true;
  } finally {
    // Stopping early (or an error) ends the transaction, which closes the cursor.
    const end = await c.query(ok ? 'COMMIT' : 'ROLLBACK').then(
      () => undefined,
      (e: Error) => e,
    );
    c.release(end);
  }
}
