// The shape of an event after the collector accepted it: what the store keeps, what the query API
// returns and what every processor and sink sees. The request-side schema (schema/event.ts) maps
// onto this; keep field names in step with the wire contract in docs/collector.md.

/** Kinds an application may send. */
export const INGEST_TYPES = [
  'login',
  'logout',
  'session_end',
  'mfa',
  'password_reset',
  'password_change',
  'access',
] as const;

/** Kinds only the collector itself writes (lockout engine, detections, admin audit). */
export const SYSTEM_TYPES = ['lockout', 'unlock', 'detection', 'admin'] as const;

export type IngestType = (typeof INGEST_TYPES)[number];
export type SystemType = (typeof SYSTEM_TYPES)[number];
export type EventType = IngestType | SystemType;
export type Outcome = 'success' | 'failure';
export type AttributeValue = string | number | boolean;

/**
 * Attribute keys the collector itself writes that reveal where someone is (detection evidence).
 * Hidden from readers together with the ip/location fields when details are hidden.
 */
export const LOCATION_ATTRIBUTE_KEYS = [
  'ip',
  'country',
  'city',
  'previous_country',
  'previous_city',
  'known_countries',
  'distance_km',
  'speed_kmh',
] as const;

export interface StoredEvent {
  /** Client idempotency key, or a collector-generated id when the client sent none. */
  id: string;
  /** When it happened, epoch ms. */
  time: number;
  /** When the collector accepted it, epoch ms. */
  received_at: number;
  type: EventType;
  outcome: Outcome | null;
  /** snake_case code: invalid_password, idle_timeout, brute_force, … */
  reason: string | null;
  user: string;
  user_id: string | null;
  email: string | null;
  /** Keyed hash (hex) of the client's session id; the raw id is never stored. */
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  device: string | null;
  app_version: string | null;
  service: string | null;
  entry: string | null;
  attributes: Record<string, AttributeValue> | null;
  /** Who did it, for system events caused by an API call (the API key's name). */
  actor: string | null;

  // Enrichment (enrichers/). null when unknown.
  /** ISO 3166-1 alpha-2, or "private" / "reserved" for non-public addresses. */
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
  isp: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  os_version: string | null;
  /** desktop | mobile | tablet | bot | other */
  device_type: string | null;
  /** The /v1/check reservation this outcome settles; used by the lockout processor, never stored. */
  attempt_id?: string;
}

/** A StoredEvent with every optional field null: the starting point for events the collector makes. */
export function blankEvent(
  fields: Pick<StoredEvent, 'id' | 'time' | 'type' | 'user'> & Partial<StoredEvent>,
): StoredEvent {
  return {
    received_at: fields.time,
    outcome: null,
    reason: null,
    user_id: null,
    email: null,
    session_id: null,
    ip: null,
    user_agent: null,
    device: null,
    app_version: null,
    service: null,
    entry: null,
    attributes: null,
    actor: null,
    country: null,
    city: null,
    latitude: null,
    longitude: null,
    asn: null,
    isp: null,
    browser: null,
    browser_version: null,
    os: null,
    os_version: null,
    device_type: null,
    ...fields,
  };
}
