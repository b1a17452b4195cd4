// PostgreSQL events are partitioned by UTC day: each replica makes sure the coming days have their
// partitions (one at a time), and retention drops whole days instead of deleting rows.
import type pg from 'pg';
import type { Queryable } from './postgres-dialect';
import { ROLLUPS } from './rows';

/** Advisory lock key of partition maintenance ("awpm"): one replica at a time creates partitions. */
export const PARTITION_LOCK_KEY = 0x6177706d;
const DAY_MS = 86_400_000;
/** Daily partitions exist ahead of the clock for today and this many days after. */
const DAYS_AHEAD = 2;
const PARTITION_NAME = /^events_p(\d{4})(\d{2})(\d{2})$/;

export type Partition = { name: string; from: number; to: number };

/** Day partition name and bounds for the UTC day containing `time`. */
export function dayPartition(time: number): Partition {
  const from = Math.floor(time / DAY_MS) * DAY_MS;
  const d = new Date(from);
  const name = `events_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return { name, from, to: from + DAY_MS };
}

/** Retention cuts at a partition boundary, so it drops whole days (retention.ts). */
export function retentionCut(before: number): number {
  return Math.floor(before / DAY_MS) * DAY_MS;
}

/**
 * Makes sure today and the next DAYS_AHEAD days have their partitions (rows already in the
 * default partition for such a day move into it). One replica at a time; the others skip.
 */
export async function maintainPartitions(writer: pg.Pool, now: number): Promise<string[]> {
  const created: string[] = [];
  for (let d = 0; d <= DAYS_AHEAD; d++) {
    const p = dayPartition(now + d * DAY_MS);
    const c = await writer.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      await c.query("SET LOCAL lock_timeout = '5s'");
      const [{ mine }] = (await c.query<{ mine: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS mine', [PARTITION_LOCK_KEY])).rows;
      const [{ exists }] = (await c.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [p.name])).rows;
      if (!mine || exists) {
        await c.query('COMMIT');
        continue;
      }
      // Built beside the table, then attached: the parent is never locked against readers, and
      // rows the default partition already holds for that day move with it.
      await c.query(`CREATE TABLE ${p.name} (LIKE events INCLUDING DEFAULTS)`);
      await c.query('LOCK TABLE events_default IN EXCLUSIVE MODE');
      await c.query(`INSERT INTO ${p.name} SELECT * FROM events_default WHERE "time" >= $1 AND "time" < $2`, [p.from, p.to]);
      await c.query('DELETE FROM events_default WHERE "time" >= $1 AND "time" < $2', [p.from, p.to]);
      await c.query(`ALTER TABLE events ATTACH PARTITION ${p.name} FOR VALUES FROM (${p.from}) TO (${p.to})`);
      await c.query('COMMIT');
      created.push(p.name);
    } catch (e) {
      await c.query('ROLLBACK').catch((err: Error) => (broken = err));
      throw e;
    } finally {
      c.release(broken);
    }
  }
  return created;
}

/** Day partitions, oldest first. */
export async function partitions(db: Queryable): Promise<Partition[]> {
  const rows = (
    await db.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`)
  ).rows;
  const out: Partition[] = [];
  for (const { name } of rows) {
    const m = PARTITION_NAME.exec(name);
    if (m) out.push(dayPartition(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Inside a write transaction: deletes events before `before` and mends the rollups; returns how many. */
export async function purgeBefore(c: Queryable, before: number): Promise<number> {
  let deleted = 0;
  // Whole days go by dropping their partition; a partition an export still reads is emptied
  // row by row instead, rather than stalling every query behind the DROP's lock.
  for (const p of await partitions(c)) {
    if (p.to > before) break;
    const n = (await c.query<{ n: number }>(`SELECT count(*) AS n FROM ${p.name}`)).rows[0].n;
    await c.query('SAVEPOINT drop_partition');
    try {
      await c.query("SET LOCAL lock_timeout = '2s'");
      await c.query(`DROP TABLE ${p.name}`);
      await c.query('RELEASE SAVEPOINT drop_partition');
      deleted += n;
    } catch {
      await c.query('ROLLBACK TO SAVEPOINT drop_partition');
      await c.query('RELEASE SAVEPOINT drop_partition');
    }
  }
  await c.query("SET LOCAL lock_timeout = '0'");
  deleted += (await c.query('DELETE FROM events WHERE "time" < $1', [before])).rowCount ?? 0;
  await c.query('DELETE FROM event_ids WHERE "time" < $1', [before]);
  // Whole buckets before the cut go; the bucket the cut falls in is recounted.
  for (const r of ROLLUPS) {
    const b = Math.floor(before / r.ms) * r.ms;
    await c.query(`DELETE FROM ${r.table} WHERE bucket <= $1`, [b]);
    await c.query(
      `INSERT INTO ${r.table} (bucket, type, outcome, reason, service, country, shard, count)
       SELECT $1::bigint, type, coalesce(outcome, ''), coalesce(reason, ''), coalesce(service, ''), coalesce(country, ''), 0, count(*)
       FROM events WHERE "time" >= $1 AND "time" < $2 GROUP BY 2, 3, 4, 5, 6`,
      [b, b + r.ms],
    );
  }
  return deleted;
}
