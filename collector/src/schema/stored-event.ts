// The shape of an event after the collector accepted it: what the store keeps, what the query API
// returns and what every processor and sink sees. The field list is the wire contract's
// (@authwatch/wire StoredEventSchema); the request-side schema (schema/event.ts) maps onto it.
// Enrichment fields (country … device_type) are filled by enrichers/, null when unknown.
import type { StoredEvent as WireStoredEvent } from '@authwatch/wire';

export { INGEST_TYPES, SYSTEM_TYPES, type IngestType, type SystemType, type EventType, type Outcome, type AttributeValue } from '@authwatch/wire';

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

export type StoredEvent = WireStoredEvent & {
  /** The /v1/check reservation this outcome settles; used by the lockout processor, never stored. */
  attempt_id?: string;
};

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
