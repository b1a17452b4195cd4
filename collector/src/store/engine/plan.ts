// A read is a plan: a generator that yields statements (SQL with "?" placeholders and their
// parameters), is handed each statement's rows and returns the answer. The algorithm lives in the
// plan once; a dialect's executor runs it, synchronously for SQLite (no promise per statement on
// the hot query path) and asynchronously for PostgreSQL.
import type { Row } from '../rows';

export interface Stmt {
  sql: string;
  params: unknown[];
}

/** A condition with its parameters ("?" placeholders, bound in order). */
export type Clause = Stmt;

export type Plan<T> = Generator<Stmt, T, Row[]>;

/** The rows of one statement. */
export function* all(sql: string, params: unknown[] = []): Plan<Row[]> {
  return yield { sql, params };
}

/** The first row's `n` (counts and sums; null read as 0). */
export function* scalar(sql: string, params: unknown[] = []): Plan<number> {
  const rows = yield { sql, params };
  return Number(rows[0]?.n ?? 0);
}

export function runSync<T>(plan: Plan<T>, exec: (s: Stmt) => Row[]): T {
  let step = plan.next();
  while (!step.done) step = plan.next(exec(step.value));
  return step.value;
}

export async function runAsync<T>(plan: Plan<T>, exec: (s: Stmt) => Promise<Row[]>): Promise<T> {
  let step = plan.next();
  while (!step.done) step = plan.next(await exec(step.value));
  return step.value;
}
