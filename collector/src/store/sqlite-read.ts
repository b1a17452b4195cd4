// The SQLite read side, synchronous: the read engine (engine/*.ts) over SQLite's dialect, run on a
// read-only connection. SqliteStore runs it in-process; the worker store runs it in reader
// threads. Free text goes through the search-term index (sqlite-terms.ts), counts and series
// through the small rollups first (sqlite-rollups.ts).
import Database from 'better-sqlite3';
import type { StoredEvent } from '../schema/stored-event';
import type { Dialect } from './engine/dialect';
import { streamStatement } from './engine/events';
import { runSync, type Stmt } from './engine/plan';
import { syncReads, type Reads } from './engine/reads';
import { escapeLike, type SearchFilter } from './filter-sql';
import { eventMapper, type Attributes, type Row } from './rows';
import { inList, rollupPlan } from './sqlite-rollups';
import { termClause } from './sqlite-terms';
import type { Db } from './sqlite-write';

// attributes are stored as JSON text.
export const rowToEvent = eventMapper((v) => (v ? (JSON.parse(v as string) as Attributes) : null));

const dialect: Dialect = {
  // SQLite's LIKE is the rule itself (ASCII case-insensitive): no lower() per row.
  contains: (column, q) => ({ sql: `"${column}" LIKE ? ESCAPE '\\'`, params: [`%${escapeLike(q)}%`] }),
  byteOrder: '', // SQLite's default BINARY collation
  userLastSeen: true,
  inList,
  // better-sqlite3 binds JS numbers as REAL: CAST keeps the division an integer division.
  floor: (expr) => `(${expr} / CAST(? AS INTEGER)) * ?`,
  // The ranges as one bound JSON parameter: a CTE of (a, b) rows the join walks, one index range each.
  ranges: (list) => ({ sql: 'WITH r(a, b) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?))', params: [JSON.stringify(list)] }),
  after: (cmp, time, seq) => ({ sql: `("time" ${cmp} ? OR ("time" = ? AND seq ${cmp} ?))`, params: [time, time, seq] }),
  textSearch: termClause,
  rollups: rollupPlan,
  rowToEvent,
};

export function openReadConnection(file: string): Db {
  const r = new Database(file, { readonly: true, fileMustExist: true });
  r.pragma('busy_timeout = 5000');
  // Large range queries revisit index pages: 32 MB per reader instead of SQLite's 2 MB.
  r.pragma('cache_size = -32768');
  return r;
}

/** Prepared statements kept per connection: the engine's SQL varies only with list lengths. */
const KEPT_STATEMENTS = 256;

function executor(db: Db): (s: Stmt) => Row[] {
  const kept = new Map<string, Database.Statement>();
  return (s) => {
    let st = kept.get(s.sql);
    if (!st) {
      if (kept.size >= KEPT_STATEMENTS) kept.clear();
      kept.set(s.sql, (st = db.prepare(s.sql)));
    }
    return st.all(...s.params) as Row[];
  };
}

/** The read API on a read-only connection of its own. */
export type SqliteReader = Reads<true> & { close(): void };

export function openReader(file: string): SqliteReader {
  const db = openReadConnection(file);
  return { ...syncReads(dialect, executor(db)), close: () => db.close() };
}

/**
 * Every matching event in order, read in chunks from a private connection: an open iterator keeps
 * a better-sqlite3 connection busy, and its read transaction is one snapshot for the whole export.
 */
export class EventStream {
  private readonly conn: Db;
  private readonly it: IterableIterator<Row>;
  private done = false;

  constructor(file: string, filter: SearchFilter, order: 'asc' | 'desc') {
    this.conn = openReadConnection(file);
    try {
      const s = runSync(streamStatement(dialect, filter, order), executor(this.conn));
      this.it = this.conn.prepare(s.sql).iterate(...s.params) as IterableIterator<Row>;
    } catch (e) {
      this.conn.close();
      throw e;
    }
  }

  /** Up to n more events; fewer than n means the end (the stream has closed itself). */
  next(n: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    while (!this.done && out.length < n) {
      const r = this.it.next();
      if (r.done) this.close();
      else out.push(rowToEvent(r.value));
    }
    return out;
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.it.return?.();
    this.conn.close();
  }
}
