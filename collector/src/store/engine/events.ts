// Event reads: the WHERE clause (free text through the dialect's index when it can answer), pages
// with a keyset cursor, exact counts from the rollups, the export statement, distinct values.
import { decodeCursor, encodeCursor, escapeLike, filterSql, TEXT_COLUMNS, type SearchFilter, type SqlWhere } from '../filter-sql';
import { EVENT_COLUMNS } from '../rows';
import { BadQuery, type EventPage, type ValueField } from '../store';
import type { Dialect } from './dialect';
import { all, scalar, type Clause, type Plan, type Stmt } from './plan';
import { decompose, wholeRange } from './ranges';
import { rollupsAnswer } from './rollups';

export const SELECT_EVENT = `SELECT seq, ${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM events`;

export interface PageRequest {
  limit: number;
  cursor: string | null;
  order: 'asc' | 'desc';
}

export function* eventWhere(d: Dialect, filter: SearchFilter, extra: Clause[] = []): Plan<SqlWhere> {
  if (filter.q) {
    const columns = filter.qExclude ? TEXT_COLUMNS.filter((c) => !filter.qExclude!.includes(c)) : TEXT_COLUMNS;
    const clause = (yield* d.textSearch(filter.q, columns, `%${escapeLike(filter.q)}%`)) ?? anyContains(d, columns, filter.q);
    return filterSql({ ...filter, q: undefined }, [...extra, clause]);
  }
  return filterSql(filter, extra);
}

/** One of the columns contains q (Dialect.contains), without an index. */
function anyContains(d: Dialect, columns: readonly string[], q: string): Clause {
  const each = columns.map((c) => d.contains(c, q));
  return { sql: `(${each.map((c) => c.sql).join(' OR ')})`, params: each.flatMap((c) => c.params) };
}

/** The filter's conditions other than the time range, as " AND …" (for the range joins). */
export function* rawWhere(d: Dialect, filter: SearchFilter): Plan<SqlWhere> {
  const w = yield* eventWhere(d, { ...filter, from: undefined, to: undefined });
  return { where: w.where ? ` AND ${w.where.slice('WHERE '.length)}` : '', params: w.params };
}

export function* queryEvents(d: Dialect, filter: SearchFilter, page: PageRequest): Plan<EventPage> {
  const c = page.cursor ? decodeCursor(page.cursor) : null;
  if (page.cursor && !c) throw new BadQuery('cursor is not valid');
  const total = yield* countEvents(d, filter);
  const w = yield* eventWhere(d, filter, c ? [d.after(page.order === 'desc' ? '<' : '>', c.time, c.seq)] : []);
  const dir = page.order === 'desc' ? 'DESC' : 'ASC';
  const rows = yield* all(`${SELECT_EVENT} ${w.where} ORDER BY "time" ${dir}, seq ${dir} LIMIT ?`, [...w.params, page.limit + 1]);
  const more = rows.length > page.limit;
  if (more) rows.pop();
  const last = rows[rows.length - 1];
  return {
    events: rows.map((r) => d.rowToEvent(r)),
    total,
    next_cursor: more && last ? encodeCursor(Number(last.time), Number(last.seq)) : null,
  };
}

/** Exact count of matching events: whole hours and minutes from the rollups when the filter allows. */
export function* countEvents(d: Dialect, filter: SearchFilter): Plan<number> {
  if (!rollupsAnswer(filter)) {
    const w = yield* eventWhere(d, filter);
    return yield* scalar(`SELECT count(*) AS n FROM events ${w.where}`, w.params);
  }
  const plan = d.rollups(filter, null);
  const p = decompose(wholeRange(filter.from, filter.to), plan.map((l) => l.ms));
  let n = 0;
  for (const [l, ranges] of p.levels.entries()) {
    if (!ranges.length) continue;
    const src = plan[l];
    const r = d.ranges(ranges);
    n += yield* scalar(`${r.sql} SELECT coalesce(sum(c.count), 0) AS n FROM r CROSS JOIN ${src.from} WHERE c.bucket >= r.a AND c.bucket < r.b${src.where}`, [
      ...r.params,
      ...src.params,
    ]);
  }
  if (p.raw.length) {
    const w = yield* rawWhere(d, filter);
    const r = d.ranges(p.raw);
    n += yield* scalar(`${r.sql} SELECT count(*) AS n FROM r CROSS JOIN events e WHERE e."time" >= r.a AND e."time" < r.b${w.where}`, [...r.params, ...w.params]);
  }
  return n;
}

/** The statement an export iterates: every matching event in order. */
export function* streamStatement(d: Dialect, filter: SearchFilter, order: 'asc' | 'desc'): Plan<Stmt> {
  const w = yield* eventWhere(d, filter);
  const dir = order === 'desc' ? 'DESC' : 'ASC';
  return { sql: `${SELECT_EVENT} ${w.where} ORDER BY "time" ${dir}, seq ${dir}`, params: w.params };
}

export function* distinctValues(d: Dialect, field: ValueField, filter: SearchFilter, limit: number): Plan<string[]> {
  const { q, ...rest } = filter;
  const extra: Clause[] = [{ sql: `"${field}" IS NOT NULL`, params: [] }];
  if (q) extra.push(d.contains(field, q));
  const w = filterSql(rest, extra);
  const rows = yield* all(`SELECT DISTINCT "${field}"${d.byteOrder} AS v FROM events ${w.where} ORDER BY 1 LIMIT ?`, [...w.params, limit]);
  return rows.map((r) => r.v as string);
}
