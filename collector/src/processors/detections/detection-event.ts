// How a detection is recorded: a system event of type "detection" whose reason is the kind, with
// the triggering event's network and device context and the evidence in attributes.
import { createHash } from 'node:crypto';
import type { AttributeValue, StoredEvent } from '../../schema/stored-event';
import { blankEvent } from '../../schema/stored-event';
import type { DetectionKind } from './config';

/** Reasons that say the account name does not exist — the mark of a stolen-list replay. */
const UNKNOWN_USER_REASONS = new Set(['invalid_user', 'unknown_user', 'user_not_found', 'invalid_company', 'no_such_user']);

// Evidence keys that reveal location are listed in schema/stored-event.ts (LOCATION_ATTRIBUTE_KEYS)
// so the API's detail toggle hides them too.

/** Detections about an address rather than an account. */
export const IP_CENTRED: ReadonlySet<DetectionKind> = new Set(['password_spray', 'credential_stuffing']);

export function isLoginAttempt(e: StoredEvent): boolean {
  return e.type === 'login' && (e.outcome === 'success' || e.outcome === 'failure');
}

export function isUnknownUserFailure(e: StoredEvent): boolean {
  return e.outcome === 'failure' && e.reason !== null && UNKNOWN_USER_REASONS.has(e.reason);
}

export function detectionEvent(
  kind: DetectionKind,
  trigger: StoredEvent,
  user: string,
  now: number,
  attributes: Record<string, AttributeValue>,
): StoredEvent {
  // Deterministic id: a re-processed trigger yields the same detection, which the store dedups.
  const userCentred = !IP_CENTRED.has(kind) && user === trigger.user;
  const id = `det_${kind}_${createHash('sha256').update(trigger.id).digest('hex').slice(0, 32)}`;
  return blankEvent({
    id,
    time: trigger.time,
    received_at: now,
    type: 'detection',
    reason: kind,
    outcome: null,
    user,
    // Only a user-centred detection carries the user's contact and account id: an IP-centred one
    // (spray, stuffing) is about many accounts, and mailing the latest of them would mislead.
    user_id: userCentred ? trigger.user_id : null,
    email: userCentred ? trigger.email : null,
    ip: trigger.ip,
    service: trigger.service,
    country: trigger.country,
    city: trigger.city,
    latitude: trigger.latitude,
    longitude: trigger.longitude,
    asn: trigger.asn,
    isp: trigger.isp,
    user_agent: trigger.user_agent,
    browser: trigger.browser,
    browser_version: trigger.browser_version,
    os: trigger.os,
    os_version: trigger.os_version,
    device_type: trigger.device_type,
    device: trigger.device,
    attributes: { trigger_event_id: trigger.id, ...attributes },
  });
}
