// Smaller rollups beside the full ones (rows.ts ROLLUPS: every bucket × type × outcome × reason ×
// service × country). Dashboards ask for one breakdown at a time (failures by reason, by service,
// by country) or totals; at 10M events the full hourly cube holds ~650k rows per 30 days, while a
// cube of (type, outcome, one field) holds a few thousand. So each level also keeps, per bucket:
//  - dim '':        type, outcome                      (totals, logins, failures)
//  - dim 'reason':  type, outcome, reason
//  - dim 'service': type, outcome, service
//  - dim 'country': type, outcome, country
// and a query reads the smallest one that has every field its filter and group use.
import type Database from 'better-sqlite3';
import type { StoredEvent } from '../schema/stored-event';
import { ROLLUPS } from './rows';
import type { EventFilter, GroupField } from './store';

/** Per level of ROLLUPS (same bucket sizes, same order). */
export const SMALL_ROLLUPS = [
  { table: 'event_counts_by_hour', full: 'event_counts_hour', ms: 3_600_000 },
  { table: 'event_counts_by_minute', full: 'event_counts', ms: 60_000 },
] as const;

const DIMS = ['reason', 'service', 'country'] as const;
type Dim = (typeof DIMS)[number];

if (SMALL_ROLLUPS.some((s, i) => ROLLUPS[i]?.ms !== s.ms || ROLLUPS[i]?.table !== s.full)) {
  throw new Error('SMALL_ROLLUPS must follow ROLLUPS level by level');
}

/** [dim, bucket, type, outcome, value, count] */
type Row = [string, number, string, string, string, number];

/** The increments of the inserted events (`inserted[i]`), per level. */
export function smallRollupCounts(events: readonly StoredEvent[], inserted: readonly boolean[]): Map<string, Row>[] {
  const out = SMALL_ROLLUPS.map(() => new Map<string, Row>());
  events.forEach((e, i) => {
    if (!inserted[i]) return;
    const outcome = e.outcome ?? '';
    SMALL_ROLLUPS.forEach((r, l) => {
      const bucket = Math.floor(e.time / r.ms) * r.ms;
      const m = out[l];
      const bump = (dim: string, value: string) => {
        const k = `${dim}\u0000${bucket}\u0000${e.type}\u0000${outcome}\u0000${value}`;
        const cur = m.get(k);
        if (cur) cur[5]++;
        else m.set(k, [dim, bucket, e.type, outcome, value, 1]);
      };
      bump('', '');
      for (const d of DIMS) bump(d, e[d] ?? '');
    });
  });
  return out;
}

export function prepareSmallRollupUpserts(db: Database.Database): Database.Statement[] {
  return SMALL_ROLLUPS.map((r) =>
    db.prepare(
      `INSERT INTO ${r.table} (dim, bucket, type, outcome, value, count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (dim, bucket, type, outcome, value) DO UPDATE SET count = count + excluded.count`,
    ),
  );
}

/** After the full rollups' bucket `bucket` (and everything before it) changed: the small ones follow. */
export function rebuildSmallRollupsUpTo(db: Database.Database, level: number, bucket: number): void {
  const r = SMALL_ROLLUPS[level];
  db.prepare(`DELETE FROM ${r.table} WHERE bucket <= ?`).run(bucket);
  db.prepare(`INSERT INTO ${r.table} SELECT '', bucket, type, outcome, '', sum(count) FROM ${r.full} WHERE bucket = ? GROUP BY bucket, type, outcome`).run(bucket);
  for (const d of DIMS) {
    db.prepare(`INSERT INTO ${r.table} SELECT '${d}', bucket, type, outcome, ${d}, sum(count) FROM ${r.full} WHERE bucket = ? GROUP BY bucket, type, outcome, ${d}`).run(bucket);
  }
}

/** How one level of rollups answers a filter (type/outcome/reason/service/country only) and group. */
export interface RollupSource {
  /** "table c" */
  from: string;
  /** " AND …" on c, bound by params. */
  where: string;
  params: unknown[];
  /** The group key expression on c. */
  key: string;
}

export function rollupSource(level: number, filter: EventFilter, group: GroupField | null): RollupSource {
  const used = new Set<Dim>(DIMS.filter((d) => filter[d]?.length));
  if (group && (DIMS as readonly string[]).includes(group)) used.add(group as Dim);
  const clauses: string[] = [];
  const params: unknown[] = [];
  const inList = (col: string, vals: string[]) => {
    clauses.push(`${col} IN (${vals.map(() => '?').join(', ')})`);
    params.push(...vals);
  };
  for (const col of ['type', 'outcome'] as const) if (filter[col]?.length) inList(`c."${col}"`, filter[col]!);
  if (used.size <= 1) {
    const dim = used.size ? [...used][0] : '';
    const table = SMALL_ROLLUPS[level].table;
    if (dim && filter[dim]?.length) inList('c.value', filter[dim]!);
    const key = !group ? 'NULL' : group === 'type' || group === 'outcome' ? `c."${group}"` : 'c.value';
    return { from: `${table} c`, where: ` AND c.dim = '${dim}'` + clauses.map((c) => ` AND ${c}`).join(''), params, key };
  }
  for (const d of DIMS) if (filter[d]?.length) inList(`c."${d}"`, filter[d]!);
  return { from: `${ROLLUPS[level].table} c`, where: clauses.map((c) => ` AND ${c}`).join(''), params, key: group ? `c."${group}"` : 'NULL' };
}
