// Read-role keys may be denied network and location details (AUTHWATCH_HIDE_DETAILS): what
// hiding them blanks, in any answer or export.
import { LOCATION_ATTRIBUTE_KEYS, type StoredEvent } from './stored-event';

export const HIDDEN_FIELDS = ['ip', 'isp', 'asn', 'city', 'country', 'latitude', 'longitude'] as const;

/** Copy of the object with the hidden fields set to null (fields it lacks stay absent). */
export function redact<T extends object>(obj: T): T {
  const out = { ...obj } as Record<string, unknown>;
  for (const f of HIDDEN_FIELDS) if (f in out) out[f] = null;
  if (out.attributes && typeof out.attributes === 'object') {
    const attrs = { ...(out.attributes as Record<string, unknown>) };
    for (const k of LOCATION_ATTRIBUTE_KEYS) delete attrs[k];
    out.attributes = attrs;
  }
  return out as T;
}

export function redactEvents(events: StoredEvent[], hide: boolean): StoredEvent[] {
  return hide ? events.map(redact) : events;
}
