// Which filters the rollup tables answer, and how the full rollup cubes (rows.ts ROLLUPS, both
// stores) answer one. SQLite adds smaller rollups in front of these (sqlite-rollups.ts).
import { ROLLUPS } from '../rows';
import type { EventFilter, GroupField } from '../store';
import type { Clause } from './plan';

/** How one level of rollups answers a filter (type/outcome/reason/service/country only) and group. */
export interface RollupSource {
  ms: number;
  /** "table c" */
  from: string;
  /** " AND …" on c, bound by params. */
  where: string;
  params: unknown[];
  /** The group key expression on c. */
  key: string;
}

export const ROLLUP_DIMS = ['type', 'outcome', 'reason', 'service', 'country'] as const;

/** Filters the rollups can answer: only their own dimensions and the time range. */
export function rollupsAnswer(filter: EventFilter): boolean {
  return !filter.user?.length && !filter.ip?.length && !filter.q;
}

/** " AND …" clauses, joined, with their parameters. */
export function andAll(clauses: Clause[]): Clause {
  return { sql: clauses.map((c) => ` AND ${c.sql}`).join(''), params: clauses.flatMap((c) => c.params) };
}

/** The full cubes: every dimension a column. */
export function cubePlan(filter: EventFilter, group: GroupField | null, inList: (col: string, vals: readonly unknown[]) => Clause): RollupSource[] {
  const w = andAll(ROLLUP_DIMS.filter((col) => filter[col]?.length).map((col) => inList(`c."${col}"`, filter[col]!)));
  return ROLLUPS.map((r) => ({ ms: r.ms, from: `${r.table} c`, where: w.sql, params: w.params, key: group ? `c."${group}"` : 'CAST(NULL AS TEXT)' }));
}
