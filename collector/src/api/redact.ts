// AUTHWATCH_HIDE_DETAILS: read-role keys do not see network/location details; admins do.
import type { Request } from 'express';
import { LOCATION_ATTRIBUTE_KEYS, type StoredEvent } from '../schema/stored-event';
import { principal } from '../http/auth';

export const HIDDEN_FIELDS = ['ip', 'isp', 'asn', 'city', 'country', 'latitude', 'longitude'] as const;

export function hidesDetails(req: Request, hideDetails: boolean): boolean {
  return hideDetails && principal(req).role !== 'admin';
}

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
