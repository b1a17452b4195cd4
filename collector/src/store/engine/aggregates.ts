// Time series and stats: whole buckets from the rollups (coarsest level first), raw events only
// for the ragged ends, summed per output bucket and group key.
import { BucketSums, type Bucket } from '../bucket-sums';
import type { SearchFilter } from '../filter-sql';
import type { GroupField } from '../store';
import type { Dialect } from './dialect';
import { all, scalar, type Plan } from './plan';
import { bucketSegments, decompose, wholeRange } from './ranges';
import { rollupsAnswer } from './rollups';
import { eventWhere, rawWhere } from './events';

const HOUR = 3_600_000;
/** More output buckets than this and the per-bucket split costs more than it saves. */
const MAX_SPLIT_BUCKETS = 100_000;
const LOGIN = (t: string, outcome: string) => `${t}type = 'login' AND ${t}outcome = '${outcome}'`;

export type Stats = { logins: number; failures: number; unique_users: number };

const buckets = (rows: Record<string, unknown>[]): Bucket[] =>
  rows.map((r) => ({ bucket: Number(r.bucket), key: (r.key ?? null) as string | null, count: Number(r.count) }));

export function* timeseries(d: Dialect, filter: SearchFilter, intervalMs: number, group: GroupField | null): Plan<Bucket[]> {
  const sums = new BucketSums();
  const { from, to } = filter;
  const n = from !== undefined && to !== undefined ? Math.ceil((to - Math.floor(from / intervalMs) * intervalMs) / intervalMs) : Infinity;
  if (!rollupsAnswer(filter) || from === undefined || to === undefined || n > MAX_SPLIT_BUCKETS) {
    const w = yield* eventWhere(d, filter);
    const key = group ? `"${group}"` : 'CAST(NULL AS TEXT)';
    const sql = `SELECT ${d.floor('"time"')} AS bucket, ${key} AS key, count(*) AS count FROM events ${w.where} GROUP BY 1, 2`;
    sums.add(buckets(yield* all(sql, [intervalMs, intervalMs, ...w.params])));
    return sums.sorted();
  }
  if (from >= to) return [];
  // One segment per output bucket, so each rollup row used adds to exactly one bucket.
  const plan = d.rollups(filter, group);
  const p = decompose(bucketSegments(from, to, intervalMs), plan.map((l) => l.ms));
  for (const [l, ranges] of p.levels.entries()) {
    if (!ranges.length) continue;
    const src = plan[l];
    const r = d.ranges(ranges);
    const sql = `${r.sql} SELECT ${d.floor('c.bucket')} AS bucket, ${src.key} AS key, sum(c.count) AS count
      FROM r CROSS JOIN ${src.from} WHERE c.bucket >= r.a AND c.bucket < r.b${src.where} GROUP BY 1, 2`;
    sums.add(buckets(yield* all(sql, [...r.params, intervalMs, intervalMs, ...src.params])));
  }
  if (p.raw.length) {
    const w = yield* rawWhere(d, filter);
    const r = d.ranges(p.raw);
    const key = group ? `e."${group}"` : 'CAST(NULL AS TEXT)';
    const sql = `${r.sql} SELECT ${d.floor('e."time"')} AS bucket, ${key} AS key, count(*) AS count
      FROM r CROSS JOIN events e WHERE e."time" >= r.a AND e."time" < r.b${w.where} GROUP BY 1, 2`;
    sums.add(buckets(yield* all(sql, [...r.params, intervalMs, intervalMs, ...w.params])));
  }
  return sums.sorted();
}

export function* eventStats(d: Dialect, filter: SearchFilter): Plan<Stats> {
  let logins = 0;
  let failures = 0;
  const add = (rows: Record<string, unknown>[]) => {
    logins += Number(rows[0]?.logins ?? 0);
    failures += Number(rows[0]?.failures ?? 0);
  };
  if (rollupsAnswer(filter)) {
    const plan = d.rollups(filter, null);
    const p = decompose(wholeRange(filter.from, filter.to), plan.map((l) => l.ms));
    for (const [l, ranges] of p.levels.entries()) {
      if (!ranges.length) continue;
      const src = plan[l];
      const r = d.ranges(ranges);
      const sql = `${r.sql} SELECT sum(CASE WHEN ${LOGIN('c.', 'success')} THEN c.count END) AS logins,
                           sum(CASE WHEN ${LOGIN('c.', 'failure')} THEN c.count END) AS failures
        FROM r CROSS JOIN ${src.from} WHERE c.bucket >= r.a AND c.bucket < r.b${src.where}`;
      add(yield* all(sql, [...r.params, ...src.params]));
    }
    if (p.raw.length) {
      const w = yield* rawWhere(d, filter);
      const r = d.ranges(p.raw);
      const sql = `${r.sql} SELECT count(CASE WHEN ${LOGIN('e.', 'success')} THEN 1 END) AS logins, count(CASE WHEN ${LOGIN('e.', 'failure')} THEN 1 END) AS failures
        FROM r CROSS JOIN events e WHERE e."time" >= r.a AND e."time" < r.b${w.where}`;
      add(yield* all(sql, [...r.params, ...w.params]));
    }
  } else {
    const w = yield* eventWhere(d, filter);
    const sql = `SELECT count(CASE WHEN ${LOGIN('', 'success')} THEN 1 END) AS logins, count(CASE WHEN ${LOGIN('', 'failure')} THEN 1 END) AS failures FROM events ${w.where}`;
    add(yield* all(sql, w.params));
  }
  return { logins, failures, unique_users: yield* uniqueUsers(d, filter) };
}

/** No condition but the time range (qExclude alone changes nothing without q). */
function onlyTime(filter: SearchFilter): boolean {
  return (Object.keys(filter) as (keyof SearchFilter)[]).every(
    (k) => k === 'from' || k === 'to' || k === 'qExclude' || filter[k] === undefined || (Array.isArray(filter[k]) && !(filter[k] as unknown[]).length),
  );
}

/**
 * Users with an event in the filter. Where user_last_seen is kept, a range that runs past the
 * latest event and no other condition: the users whose latest event is at or after `from` (by
 * hour; the partial first hour from the events). Anything else counts distinct users of the events.
 */
function* uniqueUsers(d: Dialect, filter: SearchFilter): Plan<number> {
  if (d.userLastSeen && onlyTime(filter) && !filter.q) {
    const [{ n: latest }] = yield* all('SELECT max("time") AS n FROM events');
    if (latest === null || latest === undefined) return 0;
    if (filter.to === undefined || filter.to > Number(latest)) {
      if (filter.from === undefined) return yield* scalar('SELECT count(*) AS n FROM user_last_seen');
      const from = filter.from;
      const full = Math.ceil(from / HOUR) * HOUR;
      let n = yield* scalar('SELECT count(*) AS n FROM user_last_seen WHERE hour >= ?', [full]);
      if (full > from) {
        // Users last seen in the partial first hour count if they have an event in [from, full):
        // few users have their latest event exactly then, so start from them.
        n += yield* scalar(
          `SELECT count(*) AS n FROM user_last_seen u
           WHERE u.hour = ? AND EXISTS (SELECT 1 FROM events e WHERE e."user" = u."user" AND e."time" >= ? AND e."time" < ?)`,
          [full - HOUR, from, full],
        );
      }
      return n;
    }
  }
  const w = yield* eventWhere(d, filter);
  return yield* scalar(`SELECT count(DISTINCT "user") AS n FROM events ${w.where}`, w.params);
}
