// Timestamps of auth.log lines: the classic syslog form ("Nov 24 09:15:02", no year, local time)
// and RFC 3339 (newer rsyslog / journald "short-iso" output). Syslog times get their offset from a
// timezone option and their year from a reference time, never landing in the future: a line more
// than a day ahead in this year belongs to the previous one (a December line read in January); a
// line 5 minutes to a day ahead is a clock or --authlog-tz problem, not a year boundary, and has no
// usable time (NaN: the parser skips and counts it; the collector would refuse it anyway).

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** "UTC", a fixed offset ("+02:00", "-0500") or an IANA zone ("Europe/Berlin"); undefined = this process's zone. */
export type TimeZoneOption = string | undefined;

const DAY_MS = 86_400_000;
/** The collector accepts event times this far ahead of its clock (DEFAULT_MAX_FUTURE_MS). */
const MAX_AHEAD_MS = 300_000;

export class TimeZoneError extends Error {}

/** Offset (ms, local − UTC) of a zone at an instant. */
type OffsetFn = (utcMs: number) => number;

export function offsetFunction(tz: TimeZoneOption): OffsetFn {
  if (tz === undefined || tz === '' || tz === 'local') return (ms) => -new Date(ms).getTimezoneOffset() * 60_000;
  if (/^(utc|z|gmt)$/i.test(tz)) return () => 0;
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (fixed) {
    const ms = (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000 * (fixed[1] === '-' ? -1 : 1);
    return () => ms;
  }
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw new TimeZoneError(`unknown timezone "${tz}": use UTC, an offset like +02:00, or an IANA name like Europe/Berlin`);
  }
  // Offsets change at most a few times a year: cache per UTC hour (the parser sees many lines per hour).
  const cache = new Map<number, number>();
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    let off = cache.get(hour);
    if (off === undefined) {
      const p: Record<string, number> = {};
      for (const part of fmt.formatToParts(new Date(hour * 3_600_000))) if (part.type !== 'literal') p[part.type] = Number(part.value);
      off = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - hour * 3_600_000;
      if (cache.size > 10_000) cache.clear();
      cache.set(hour, off);
    }
    return off;
  };
}

/** Wall-clock fields in a zone → epoch ms (two passes settle DST edges). */
export function zonedToEpoch(year: number, month: number, day: number, h: number, m: number, s: number, offset: OffsetFn): number {
  const wall = Date.UTC(year, month, day, h, m, s);
  let t = wall - offset(wall);
  t = wall - offset(t);
  return t;
}

export interface TimeContext {
  /** Reference "now" for year inference (epoch ms). */
  now: number;
  offset: OffsetFn;
  /** The local year of the hour `now` is in (cached: a Date per line showed in profiles). */
  year?: { hour: number; year: number };
}

function yearAt(ctx: TimeContext): number {
  const hour = Math.floor(ctx.now / 3_600_000);
  if (ctx.year?.hour === hour) return ctx.year.year;
  // Offsets are whole minutes and change on hour boundaries at most: one year per UTC hour.
  const year = new Date(ctx.now + ctx.offset(ctx.now)).getUTCFullYear();
  const start = new Date(hour * 3_600_000 + ctx.offset(hour * 3_600_000)).getUTCFullYear();
  const end = new Date(hour * 3_600_000 + 3_599_999 + ctx.offset(hour * 3_600_000 + 3_599_999)).getUTCFullYear();
  // An hour that straddles New Year in this zone (offsets like +05:30) is not cached.
  if (start === end) ctx.year = { hour, year };
  return year;
}

/** Syslog "Mmm dd hh:mm:ss" → epoch ms, or NaN (unknown month, or 5 min to 1 day ahead of the reference time). */
export function syslogTime(mon: string, day: number, h: number, m: number, s: number, ctx: TimeContext): number {
  const month = MONTHS[mon];
  if (month === undefined) return NaN;
  const year = yearAt(ctx);
  const t = zonedToEpoch(year, month, day, h, m, s, ctx.offset);
  if (t <= ctx.now + MAX_AHEAD_MS) return t;
  return t > ctx.now + DAY_MS ? zonedToEpoch(year - 1, month, day, h, m, s, ctx.offset) : NaN;
}
