// Smaller rollups beside the full ones (rows.ts ROLLUPS: every bucket × type × outcome × reason ×
// service × country, by hour and by minute). Dashboards ask for one breakdown at a time (failures
// by reason, by service, by country) or totals; at 10M events the full hourly cube holds ~650k rows
// per 30 days, while a cube of (type, outcome, one field) holds a few thousand. So the small
// rollups keep, per bucket:
//  - dim '':        type, outcome                      (totals, logins, failures)
//  - dim 'reason':  type, outcome, reason
//  - dim 'service': type, outcome, service
//  - dim 'country': type, outcome, country
// by hour, by 10 minutes and by minute (a range's ragged ends read 10-minute rows before minutes),
// and a query reads the smallest one that has every field its filter and group use. Their key
// starts with (dim, type, outcome), so a series of login failures reads only login failures.
import type Database from 'better-sqlite3';
import { INGEST_TYPES, SYSTEM_TYPES, type StoredEvent } from '../schema/stored-event';
import type { Clause } from './engine/plan';
import { andAll, cubePlan, type RollupSource } from './engine/rollups';
import type { EventFilter, GroupField } from './store';

/** Levels of the small rollups, coarsest first. */
export const SMALL_ROLLUPS = [
  { table: 'event_counts_by_hour', ms: 3_600_000 },
  { table: 'event_counts_by_10min', ms: 600_000 },
  { table: 'event_counts_by_minute', ms: 60_000 },
] as const;

const DIMS = ['reason', 'service', 'country'] as const;
type Dim = (typeof DIMS)[number];
const MINUTE_CUBE = 'event_counts';

/** [dim, type, outcome, bucket, value, count] */
type Row = [string, string, string, number, string, number];

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
        else m.set(k, [dim, e.type, outcome, bucket, value, 1]);
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
      `INSERT INTO ${r.table} (dim, type, outcome, bucket, value, count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (dim, type, outcome, bucket, value) DO UPDATE SET count = count + excluded.count`,
    ),
  );
}

/** After a purge before `before` (the per-minute cube already exact again): the small rollups follow. */
export function rebuildSmallRollupsBefore(db: Database.Database, before: number): void {
  const cols = '(dim, type, outcome, bucket, value, count)';
  for (const r of SMALL_ROLLUPS) {
    const b = Math.floor(before / r.ms) * r.ms;
    db.prepare(`DELETE FROM ${r.table} WHERE bucket <= ?`).run(b);
    const from = `FROM ${MINUTE_CUBE} WHERE bucket >= ? AND bucket < ?`;
    db.prepare(`INSERT INTO ${r.table} ${cols} SELECT '', type, outcome, ${b}, '', sum(count) ${from} GROUP BY type, outcome`).run(b, b + r.ms);
    for (const d of DIMS) {
      db.prepare(`INSERT INTO ${r.table} ${cols} SELECT '${d}', type, outcome, ${b}, ${d}, sum(count) ${from} GROUP BY type, outcome, ${d}`).run(b, b + r.ms);
    }
  }
}

/** `col` IN (?, …): one bound value each. */
export function inList(col: string, vals: readonly unknown[]): Clause {
  return { sql: `${col} IN (${vals.map(() => '?').join(', ')})`, params: [...vals] };
}

/** The rollup levels (coarsest first) that answer the filter and group: small ones when they can. */
export function rollupPlan(filter: EventFilter, group: GroupField | null): RollupSource[] {
  const used = new Set<Dim>(DIMS.filter((d) => filter[d]?.length));
  if (group && (DIMS as readonly string[]).includes(group)) used.add(group as Dim);
  if (used.size > 1) return cubePlan(filter, group, inList);
  const dim = used.size ? [...used][0] : '';
  // Every type and outcome, when the filter names none: the key starts with them, so each
  // (type, outcome) is a range read of its buckets instead of a scan past the others.
  const clauses = [
    { sql: `c.dim = '${dim}'`, params: [] },
    inList('c."type"', filter.type?.length ? filter.type : [...INGEST_TYPES, ...SYSTEM_TYPES]),
    inList('c."outcome"', filter.outcome?.length ? filter.outcome : ['', 'success', 'failure']),
  ];
  if (dim && filter[dim]?.length) clauses.push(inList('c.value', filter[dim]!));
  const w = andAll(clauses);
  const key = !group ? 'CAST(NULL AS TEXT)' : group === 'type' || group === 'outcome' ? `c."${group}"` : 'c.value';
  return SMALL_ROLLUPS.map((r) => ({ ms: r.ms, from: `${r.table} c`, where: w.sql, params: w.params, key }));
}
