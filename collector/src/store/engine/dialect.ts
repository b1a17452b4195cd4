// What differs between SQLite and PostgreSQL for the read engine. Everything else (the query
// shapes, rollup decomposition, cursors, row mapping) is written once in engine/*.ts. SQL is
// written with "?" placeholders; each executor binds them its own way.
import type { StoredEvent } from '../../schema/stored-event';
import type { Row } from '../rows';
import type { EventFilter, GroupField } from '../store';
import type { Clause, Plan } from './plan';
import type { Range } from './ranges';
import type { RollupSource } from './rollups';

export interface Dialect {
  /**
   * `column` contains `q` as both stores match free text: ASCII letters in either case, every
   * other character only itself, `%`, `_` and `\` literal (SQLite's LIKE).
   */
  contains(column: string, q: string): Clause;
  /** Appended to a text ORDER BY term so both stores sort by bytes ('' where that is the default). */
  readonly byteOrder: string;
  /** Keeps user_last_seen: unique users over a range open at the top read it. */
  readonly userLastSeen: boolean;
  /** `col` is one of `vals`. */
  inList(col: string, vals: readonly unknown[]): Clause;
  /** `expr` floored to a multiple of the interval, which is bound twice (two "?"). */
  floor(expr: string): string;
  /** "WITH r(a, b) AS (…)": the ranges as a table, one index range each when joined. */
  ranges(list: readonly Range[]): Clause;
  /** Rows after (cmp '>') or before ('<') the keyset cursor (time, seq). */
  after(cmp: '<' | '>', time: number, seq: number): Clause;
  /** Free text through an index, or null to fall back to `contains` over the columns. */
  textSearch(q: string, columns: readonly string[], likePattern: string): Plan<Clause | null>;
  /** The rollup levels, coarsest first, that answer a filter of rollup dimensions and a group. */
  rollups(filter: EventFilter, group: GroupField | null): RollupSource[];
  rowToEvent(r: Row): StoredEvent;
}
