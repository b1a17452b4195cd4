// Query-string contract shared by the read endpoints: only the documented parameters (400 listing
// them otherwise), enumerations checked against their values, numbers and times range-checked here
// so that no value a store cannot bind (e.g. beyond PostgreSQL's bigint) ever reaches SQL.
import type { Request, RequestHandler } from 'express';
import { INGEST_TYPES, SYSTEM_TYPES } from '../schema/stored-event';
import type { SearchFilter } from '../store/filter-sql';
import { selfUser } from '../http/auth';
import { badRequest, HttpError } from '../http/errors';
import { hidesDetails } from './redact';
import { HIDDEN_FIELDS } from '../schema/redact';

type Query = Request['query'];

/** Query times are epoch ms in [0, MAX_QUERY_TIME] (1970-01-01 … 9999-12-31T23:59:59.999Z). */
export const MAX_QUERY_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Values one multi-valued filter may carry (each becomes a bound SQL parameter). */
export const MAX_FILTER_VALUES = 1000;

export const EVENT_TYPES: readonly string[] = [...INGEST_TYPES, ...SYSTEM_TYPES];
export const OUTCOMES = ['success', 'failure'] as const;
export const ORDERS = ['desc', 'asc'] as const;
/** The filters every event query takes (events, events.csv, timeseries, stats, values). */
export const EVENT_FILTER_PARAMS = ['from', 'to', 'user', 'type', 'outcome', 'reason', 'ip', 'service', 'country', 'q'] as const;

/** A 400 whose details name the parameter (`path`), like the body validation errors do. */
export function badParam(name: string, message: string): HttpError {
  return badRequest(`${name} ${message}`, [{ path: name, message }]);
}

/** Printable excerpt of a client value for an error message. */
function shown(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

/**
 * Middleware: 400 for any query parameter not in `names` (a typo such as ?usr=alice must not
 * silently widen the query to everyone). The message lists what the endpoint accepts.
 */
export function onlyParams(...names: readonly string[]): RequestHandler {
  const accepted = new Set(names);
  const list = names.length ? names.join(', ') : 'no query parameters';
  return (req, _res, next) => {
    const unknown = Object.keys(req.query).filter((k) => !accepted.has(k));
    if (!unknown.length) return next();
    const named = unknown.slice(0, 5).map(shown).join(', ') + (unknown.length > 5 ? ` and ${unknown.length - 5} more` : '');
    next(
      badRequest(
        `unknown query parameter${unknown.length > 1 ? 's' : ''} ${named}; ${req.method} ${req.path.slice(0, 80)} accepts ${list}`,
        unknown.slice(0, 50).map((k) => ({ path: k.slice(0, 100), message: `unknown parameter; accepted: ${list}` })),
      ),
    );
  };
}

function raw(q: Query, name: string): string[] {
  const v = q[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.filter((x): x is string => typeof x === 'string');
}

/** The last value of a single-valued parameter. */
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
  if (vals.length > MAX_FILTER_VALUES) throw badParam(name, `takes at most ${MAX_FILTER_VALUES} values (got ${vals.length})`);
  return vals.length ? vals : undefined;
}

/** A multi-valued filter over a closed vocabulary: every value must be one of `allowed`. */
export function manyOf(q: Query, name: string, allowed: readonly string[]): string[] | undefined {
  const vals = many(q, name);
  const bad = vals?.find((v) => !allowed.includes(v));
  if (bad !== undefined) throw badParam(name, `must be one of ${allowed.join(', ')} (got ${shown(bad)})`);
  return vals;
}

/** A single value from a closed vocabulary (400 with the allowed values otherwise). */
export function choice<T extends string>(q: Query, name: string, allowed: readonly T[], def: T): T;
export function choice<T extends string>(q: Query, name: string, allowed: readonly T[], def?: undefined): T | undefined;
export function choice<T extends string>(q: Query, name: string, allowed: readonly T[], def?: T): T | undefined {
  const v = one(q, name);
  if (v === undefined || v === '') return def;
  if (!(allowed as readonly string[]).includes(v)) throw badParam(name, `must be one of ${allowed.join(', ')} (got ${shown(v)})`);
  return v as T;
}

const RANGE = `between 0 (1970-01-01T00:00:00Z) and ${MAX_QUERY_TIME} (9999-12-31T23:59:59.999Z)`;
// RFC 3339 date-time (T or space, optional fraction, Z or offset), or a full-date (UTC midnight).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2})))?$/;

function validCalendar(m: RegExpExecArray): boolean {
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return false;
  if (m[4] === undefined) return true;
  // Leap seconds (60) are valid RFC 3339 but not representable as epoch ms: refused.
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
  return m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59);
}

/** Epoch ms or RFC 3339, within [0, MAX_QUERY_TIME]; anything else is a 400 naming `name`. */
export function parseTime(value: string, name: string): number {
  let t: number;
  if (/^[+-]?\d+$/.test(value)) {
    t = Number(value);
  } else {
    const m = DATE_TIME.exec(value);
    if (!m) throw badParam(name, `must be epoch milliseconds or an RFC 3339 time such as 2026-04-01T12:00:00Z, got ${shown(value)}`);
    if (m[1] === '0000') throw badParam(name, `has year 0000, which RFC 3339 times cannot have; the earliest accepted time is 1970-01-01T00:00:00Z`);
    if (!validCalendar(m)) throw badParam(name, `is not a real date and time: ${shown(value)}`);
    t = Date.parse(m[4] === undefined ? `${value}T00:00:00Z` : value);
  }
  if (!Number.isSafeInteger(t) || t < 0 || t > MAX_QUERY_TIME) throw badParam(name, `must be ${RANGE}, got ${shown(value)}`);
  return t;
}

export function time(q: Query, name: string): number | undefined {
  const v = one(q, name);
  return v === undefined || v === '' ? undefined : parseTime(v, name);
}

/** A decimal integer in [min, max] (no exponents, fractions or hex: "1e3" is a 400). */
export function int(q: Query, name: string, def: number, min: number, max: number): number {
  const v = one(q, name);
  if (v === undefined || v === '') return def;
  const n = /^[+-]?\d{1,20}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badParam(name, `must be an integer between ${min} and ${max}, got ${shown(v)}`);
  return n;
}

/** Restricts a user filter to the self-view user (a filter for someone else matches nothing). */
export function restrictUsers(users: string[] | undefined, self: string | undefined): string[] | undefined {
  if (self === undefined) return users;
  if (!users || users.includes(self)) return [self];
  return ['\u0000no-match'];
}

/** 403 for anything that would let a key that may not see network details probe them. */
export function hiddenDetail(what: string): HttpError {
  return new HttpError(
    403,
    `${what} is not available to this key: the collector hides network details (ip, country, city, ISP, ASN, location) from read keys (AUTHWATCH_HIDE_DETAILS); use an admin key`,
  );
}

/**
 * The common event filter. `hideDetails` is the collector's AUTHWATCH_HIDE_DETAILS setting: for a
 * key that may not see the details, ip/country filters are refused (a count per value would rebuild
 * them) and free text does not look into the hidden columns.
 */
export function eventFilter(req: Request, hideDetails = false): SearchFilter {
  const q = req.query;
  const hide = hidesDetails(req, hideDetails);
  const f: SearchFilter = {
    from: time(q, 'from'),
    to: time(q, 'to'),
    user: restrictUsers(many(q, 'user'), selfUser(req)),
    type: manyOf(q, 'type', EVENT_TYPES),
    outcome: manyOf(q, 'outcome', OUTCOMES),
    reason: many(q, 'reason'),
    ip: many(q, 'ip'),
    service: many(q, 'service'),
    country: many(q, 'country'),
    q: one(q, 'q') || undefined,
  };
  if (hide) {
    if (f.ip) throw hiddenDetail('the ip filter');
    if (f.country) throw hiddenDetail('the country filter');
    if (f.q) f.qExclude = HIDDEN_FIELDS;
  }
  if (f.from !== undefined && f.to !== undefined && f.from > f.to) throw badParam('from', 'must not be after to');
  // No stored text holds U+0000 (validation refuses it), and SQLite's LIKE would stop reading the
  // pattern there: "ab\0cd" would match every value ending in "ab".
  if (f.q?.includes('\u0000')) throw badParam('q', 'must not contain U+0000');
  return f;
}
