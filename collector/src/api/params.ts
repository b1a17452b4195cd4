// Query-string parsing shared by the read endpoints: times, multi-valued filters, limits.
import type { Request } from 'express';
import type { EventFilter } from '../store/store';
import { badRequest } from './errors';
import { selfUser } from './auth';

type Query = Request['query'];

function raw(q: Query, name: string): string[] {
  const v = q[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string');
}

export function one(q: Query, name: string): string | undefined {
  const v = raw(q, name);
  return v.length ? v[v.length - 1] : undefined;
}

/** Repeated params and comma-separated values both work: ?user=a&user=b or ?user=a,b. */
export function many(q: Query, name: string): string[] | undefined {
  const vals = raw(q, name)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  return vals.length ? vals : undefined;
}

/** Epoch ms or RFC 3339. */
export function parseTime(value: string, name: string): number {
  if (/^-?\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(`${name} must be epoch milliseconds or an RFC 3339 time, got "${value.slice(0, 40)}"`);
  return t;
}

export function time(q: Query, name: string): number | undefined {
  const v = one(q, name);
  return v === undefined || v === '' ? undefined : parseTime(v, name);
}

export function int(q: Query, name: string, def: number, min: number, max: number): number {
  const v = one(q, name);
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`${name} must be an integer between ${min} and ${max}`);
  return n;
}

export function choice<T extends string>(q: Query, name: string, allowed: readonly T[], def: T): T {
  const v = one(q, name);
  if (v === undefined || v === '') return def;
  if (!(allowed as readonly string[]).includes(v)) throw badRequest(`${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** Restricts a user filter to the self-view user (a filter for someone else matches nothing). */
export function restrictUsers(users: string[] | undefined, self: string | undefined): string[] | undefined {
  if (self === undefined) return users;
  if (!users || users.includes(self)) return [self];
  return ['\u0000no-match'];
}

export function eventFilter(req: Request): EventFilter {
  const q = req.query;
  const f: EventFilter = {
    from: time(q, 'from'),
    to: time(q, 'to'),
    user: restrictUsers(many(q, 'user'), selfUser(req)),
    type: many(q, 'type'),
    outcome: many(q, 'outcome'),
    reason: many(q, 'reason'),
    ip: many(q, 'ip'),
    service: many(q, 'service'),
    country: many(q, 'country'),
    q: one(q, 'q') || undefined,
  };
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) throw badRequest('from must not be after to');
  return f;
}
