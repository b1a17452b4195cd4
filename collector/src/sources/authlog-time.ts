// Timestamps of auth.log lines: the classic syslog form ("Nov 24 09:15:02", no year, local time)
// and RFC 3339 (newer rsyslog / journald "short-iso" output). Syslog times get their year from a
// reference time (a line that would be more than a day in the future belongs to the previous
// year: a December line read in January) and their offset from a timezone option.

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** "UTC", a fixed offset ("+02:00", "-0500") or an IANA zone ("Europe/Berlin"); undefined = this process's zone. */
export type TimeZoneOption = string | undefined;

const DAY_MS = 86_400_000;

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
}

/** Syslog "Mmm dd hh:mm:ss" → epoch ms, or NaN. The year is the reference year unless that lands > 1 day ahead. */
export function syslogTime(mon: string, day: number, h: number, m: number, s: number, ctx: TimeContext): number {
  const month = MONTHS[mon];
  if (month === undefined) return NaN;
  const year = new Date(ctx.now + ctx.offset(ctx.now)).getUTCFullYear();
  const t = zonedToEpoch(year, month, day, h, m, s, ctx.offset);
  return t > ctx.now + DAY_MS ? zonedToEpoch(year - 1, month, day, h, m, s, ctx.offset) : t;
}
