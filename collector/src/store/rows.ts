// What the SQLite and PostgreSQL stores share about their rows: the events table's columns, how a
// row becomes a StoredEvent / SessionRow / LockRow, and the per-bucket counts kept in the rollups.
import type { StoredEvent, AttributeValue, EventType, Outcome } from '../schema/stored-event';
import type { LockRow, Reservation, SessionRow } from './store';

export type Row = Record<string, unknown>;
export type Attributes = Record<string, AttributeValue>;

export const EVENT_COLUMNS = [
  'id', 'time', 'received_at', 'type', 'outcome', 'reason', 'user', 'user_id', 'email', 'session_id', 'ip',
  'user_agent', 'device', 'app_version', 'service', 'entry', 'attributes', 'actor', 'country', 'city',
  'latitude', 'longitude', 'asn', 'isp', 'browser', 'browser_version', 'os', 'os_version', 'device_type',
] as const;
export type EventColumn = (typeof EVENT_COLUMNS)[number];

/**
 * A row → StoredEvent mapper. What differs between the stores is how `attributes` arrives:
 * a JSON string in SQLite, an already-parsed jsonb object in PostgreSQL.
 */
export function eventMapper(attributes: (value: unknown) => Attributes | null): (r: Row) => StoredEvent {
  return (r) => ({
    id: r.id as string,
    time: r.time as number,
    received_at: r.received_at as number,
    type: r.type as EventType,
    outcome: r.outcome as Outcome | null,
    reason: r.reason as string | null,
    user: r.user as string,
    user_id: r.user_id as string | null,
    email: r.email as string | null,
    session_id: r.session_id as string | null,
    ip: r.ip as string | null,
    user_agent: r.user_agent as string | null,
    device: r.device as string | null,
    app_version: r.app_version as string | null,
    service: r.service as string | null,
    entry: r.entry as string | null,
    attributes: attributes(r.attributes),
    actor: r.actor as string | null,
    country: r.country as string | null,
    city: r.city as string | null,
    latitude: r.latitude as number | null,
    longitude: r.longitude as number | null,
    asn: r.asn as number | null,
    isp: r.isp as string | null,
    browser: r.browser as string | null,
    browser_version: r.browser_version as string | null,
    os: r.os as string | null,
    os_version: r.os_version as string | null,
    device_type: r.device_type as string | null,
  });
}

// Session and lockout rows have exactly the table's columns.
export const rowToSession = (r: Row): SessionRow => r as unknown as SessionRow;
export const rowToLock = (r: Row): LockRow => r as unknown as LockRow;
// SQLite gives 0/1 for the flag, PostgreSQL a boolean.
export const rowToReservation = (r: Row): Reservation => ({ ...(r as unknown as Reservation), expired: Boolean(r.expired) });

/** Oldest reservation first: expired in this order they make the same failures, and locks, on every store. */
export const byCreation = (a: Reservation, b: Reservation): number => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Rollup tables, coarsest first: whole hours, then whole minutes, then events. */
export const ROLLUPS = [
  { table: 'event_counts_hour', ms: 3_600_000 },
  { table: 'event_counts', ms: 60_000 },
] as const;
/** bucket, type, outcome, reason, service, country, count */
export type RollupRow = [number, string, string, string, string, string, number];

/**
 * The rollup increments for the events actually inserted (`inserted[i]`): one row per distinct
 * bucket and dimensions, for each level of ROLLUPS.
 */
export function rollupCounts(events: readonly StoredEvent[], inserted: readonly boolean[]): Map<string, RollupRow>[] {
  const counts = ROLLUPS.map(() => new Map<string, RollupRow>());
  events.forEach((e, i) => {
    if (!inserted[i]) return;
    const dims = `${e.type}\u0000${e.outcome ?? ''}\u0000${e.reason ?? ''}\u0000${e.service ?? ''}\u0000${e.country ?? ''}`;
    ROLLUPS.forEach((r, l) => {
      const bucket = Math.floor(e.time / r.ms) * r.ms;
      const k = `${bucket}\u0000${dims}`;
      const cur = counts[l].get(k);
      if (cur) cur[6]++;
      else counts[l].set(k, [bucket, e.type, e.outcome ?? '', e.reason ?? '', e.service ?? '', e.country ?? '', 1]);
    });
  });
  return counts;
}
