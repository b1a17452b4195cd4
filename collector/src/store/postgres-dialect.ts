// PostgreSQL's side of the read engine (engine/dialect.ts): "$n" placeholders, ILIKE for free
// text (no term index), arrays for lists and ranges, bigint division for buckets, byte-order
// sorting as SQLite sorts, jsonb attributes. Also how a statement runs, and how an export streams.
import pg from 'pg';
import type { QueryResultRow } from 'pg';
import type { Dialect } from './engine/dialect';
import type { StoredEvent } from '../schema/stored-event';
import { runAsync, type Plan, type Stmt } from './engine/plan';
import { cubePlan } from './engine/rollups';
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
  like: 'ILIKE',
  byteOrder: ' COLLATE "C"',
  userLastSeen: false,
  inList: anyOf,
  floor: (expr) => `(${expr} / ?::bigint) * ?::bigint`,
  ranges: (list) => ({ sql: 'WITH r(a, b) AS (SELECT * FROM unnest(?::bigint[], ?::bigint[]))', params: [list.map((r) => r[0]), list.map((r) => r[1])] }),
  after: (cmp, time, seq) => ({ sql: `("time", seq) ${cmp} (?, ?)`, params: [time, seq] }),
  // No term index: the engine falls back to ILIKE over the columns.
  *textSearch() {
    return null;
  },
  rollups: (filter, group) => cubePlan(filter, group, anyOf),
  // jsonb arrives parsed.
  rowToEvent: eventMapper((v) => (v ?? null) as Attributes | null),
};

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
