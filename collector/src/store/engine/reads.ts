// The read API of a store, bound to a dialect and an executor: every CoreStore read but the
// export stream, each one plan run by `run`. SQLite binds a synchronous executor (sqlite-read.ts),
// PostgreSQL an asynchronous one (postgres.ts).
import type { Bucket } from '../bucket-sums';
import type { SearchFilter } from '../filter-sql';
import type { Row } from '../rows';
import type { EventPage, GroupField, LockQuery, LockRow, Policy, SessionQuery, SessionRow, ValueField } from '../store';
import type { Dialect } from './dialect';
import { eventStats, timeseries, type Stats } from './aggregates';
import { countEvents, distinctValues, queryEvents, type PageRequest } from './events';
import { runAsync, runSync, type Plan, type Stmt } from './plan';
import * as records from './records';

/** The reads; `Sync` true: each answers at once, false: with a promise. */
export interface Reads<Sync extends boolean> {
  getPolicy(): Answer<Sync, Policy>;
  activeLocks(user: string | null, ip: string | null, now: number): Answer<Sync, LockRow[]>;
  getSession(id: string): Answer<Sync, SessionRow | undefined>;
  listSessions(q: SessionQuery): Answer<Sync, SessionRow[]>;
  listLockouts(q: LockQuery): Answer<Sync, LockRow[]>;
  queryEvents(filter: SearchFilter, page: PageRequest): Answer<Sync, EventPage>;
  countEvents(filter: SearchFilter): Answer<Sync, number>;
  timeseries(filter: SearchFilter, intervalMs: number, group: GroupField | null): Answer<Sync, Bucket[]>;
  eventStats(filter: SearchFilter): Answer<Sync, Stats>;
  distinctValues(field: ValueField, filter: SearchFilter, limit: number): Answer<Sync, string[]>;
  countActiveSessions(user?: string[]): Answer<Sync, number>;
  countLockedAccounts(now: number, user?: string[]): Answer<Sync, number>;
}

type Answer<Sync extends boolean, T> = Sync extends true ? T : Promise<T>;

function bind<A>(d: Dialect, run: <T>(p: Plan<T>) => unknown): A {
  const r = run as <T>(p: Plan<T>) => never;
  return {
    getPolicy: () => r(records.getPolicy()),
    activeLocks: (user: string | null, ip: string | null, now: number) => r(records.activeLocks(user, ip, now)),
    getSession: (id: string) => r(records.getSession(id)),
    listSessions: (q: SessionQuery) => r(records.listSessions(d, q)),
    listLockouts: (q: LockQuery) => r(records.listLockouts(d, q)),
    queryEvents: (filter: SearchFilter, page: PageRequest) => r(queryEvents(d, filter, page)),
    countEvents: (filter: SearchFilter) => r(countEvents(d, filter)),
    timeseries: (filter: SearchFilter, intervalMs: number, group: GroupField | null) => r(timeseries(d, filter, intervalMs, group)),
    eventStats: (filter: SearchFilter) => r(eventStats(d, filter)),
    distinctValues: (field: ValueField, filter: SearchFilter, limit: number) => r(distinctValues(d, field, filter, limit)),
    countActiveSessions: (user?: string[]) => r(records.countActiveSessions(d, user)),
    countLockedAccounts: (now: number, user?: string[]) => r(records.countLockedAccounts(d, now, user)),
  } as A;
}

export function syncReads(d: Dialect, exec: (s: Stmt) => Row[]): Reads<true> {
  return bind(d, (p) => runSync(p, exec));
}

export function asyncReads(d: Dialect, exec: (s: Stmt) => Promise<Row[]>): Reads<false> {
  return bind(d, (p) => runAsync(p, exec));
}

/** Every read of the API, by name. */
export const READ_OPS = [
  'getPolicy', 'activeLocks', 'getSession', 'listSessions', 'listLockouts', 'queryEvents', 'countEvents', 'timeseries', 'eventStats',
  'distinctValues', 'countActiveSessions', 'countLockedAccounts',
] as const satisfies readonly (keyof Reads<true>)[];
export type ReadOp = (typeof READ_OPS)[number];

/**
 * Gives a store the reads it does not define itself (a method of its class wins): each one
 * `call(op, args)`. How the store's own class declares them: `interface X extends Omit<Reads<false>, …>`.
 */
export function forwardReads(store: object, call: (op: ReadOp, args: unknown[]) => Promise<unknown>): void {
  for (const op of READ_OPS) if (!(op in store)) Object.defineProperty(store, op, { value: (...args: unknown[]) => call(op, args), writable: true });
}
