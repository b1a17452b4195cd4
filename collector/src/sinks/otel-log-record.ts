// Maps one stored event to one OpenTelemetry log record: a stable event name per kind, severity by
// outcome, a short sentence as body and semantic-convention attributes. Pure; no SDK state.
import { SeverityNumber, type LogAttributes, type LogRecord } from '@opentelemetry/api-logs';
import { ATTR_CLIENT_ADDRESS, ATTR_USER_AGENT_ORIGINAL } from '@opentelemetry/semantic-conventions';
import { escapeControl } from '../log';
import type { EventType, StoredEvent } from '../schema/stored-event';

// Experimental semantic conventions (semconv 1.45). The package asks users to copy incubating
// names instead of importing them, because they may change between minor releases.
export const ATTR_USER_NAME = 'user.name';
export const ATTR_USER_ID = 'user.id';
export const ATTR_USER_EMAIL = 'user.email';
export const ATTR_SESSION_ID = 'session.id';
export const ATTR_USER_AGENT_NAME = 'user_agent.name';
export const ATTR_USER_AGENT_VERSION = 'user_agent.version';
export const ATTR_USER_AGENT_OS_NAME = 'user_agent.os.name';
export const ATTR_USER_AGENT_OS_VERSION = 'user_agent.os.version';
export const ATTR_GEO_COUNTRY_ISO_CODE = 'geo.country.iso_code';
export const ATTR_GEO_LOCALITY_NAME = 'geo.locality.name';
export const ATTR_GEO_LOCATION_LAT = 'geo.location.lat';
export const ATTR_GEO_LOCATION_LON = 'geo.location.lon';
export const ATTR_CLIENT_AS_NUMBER = 'client.as.number';
export const ATTR_CLIENT_AS_ORGANIZATION = 'client.as.organization';

/** Stable log event name per kind: authwatch.login, authwatch.session_end, authwatch.lockout… */
export function eventName(type: EventType): string {
  return `authwatch.${type}`;
}

/** Detections that are informative rather than an attack in progress. */
const NOTICE_DETECTIONS = new Set(['new_device', 'new_country']);

export function severityOf(event: StoredEvent): { number: SeverityNumber; text: string } {
  if (event.type === 'detection' && !NOTICE_DETECTIONS.has(event.reason ?? '')) {
    return { number: SeverityNumber.ERROR, text: 'ERROR' };
  }
  if (event.type === 'lockout' || event.type === 'detection' || event.outcome === 'failure') {
    return { number: SeverityNumber.WARN, text: 'WARN' };
  }
  return { number: SeverityNumber.INFO, text: 'INFO' };
}

function suffix(event: StoredEvent): string {
  return event.reason ? `: ${event.reason}` : '';
}

/** A short human sentence; details live in the attributes. */
export function describe(event: StoredEvent): string {
  const u = event.user;
  const failed = event.outcome === 'failure';
  const to = event.service ? ` to ${event.service}` : '';
  switch (event.type) {
    case 'login':
      return failed ? `Login failed for ${u}${to}${suffix(event)}` : `${u} logged in${to}`;
    case 'logout':
      return `${u} logged out${event.service ? ` of ${event.service}` : ''}`;
    case 'session_end':
      return `Session of ${u} ended${suffix(event)}`;
    case 'mfa':
      return `MFA ${failed ? 'failed' : 'event'} for ${u}${suffix(event)}`;
    case 'password_reset':
      return `Password reset ${failed ? 'failed' : 'done'} for ${u}${suffix(event)}`;
    case 'password_change':
      return `Password change ${failed ? 'failed' : 'done'} for ${u}${suffix(event)}`;
    case 'access':
      return `${u} ${failed ? 'was denied' : 'accessed'}${event.reason ? ` ${event.reason}` : ''}${event.service ? ` on ${event.service}` : ''}`;
    case 'lockout': {
      const scope = event.attributes?.scope;
      return `Locked ${u}${scope ? ` (scope ${String(scope)})` : ''}${suffix(event)}`;
    }
    case 'unlock':
      return `Unlocked ${u}${event.actor ? ` by ${event.actor}` : ''}`;
    case 'detection':
      return `Detection ${event.reason ?? 'unknown'} for ${u}`;
    case 'admin':
      return `Admin action${event.reason ? ` ${event.reason}` : ''} on ${u}${event.actor ? ` by ${event.actor}` : ''}`;
  }
}

// Defence in depth: the ingest schema already refuses such keys; a log pipeline is the last place
// where a secret should be able to slip through, so we drop them again here.
const SECRET_KEY = /passw(or)?d|passphrase|secret|token|credential|api[-_.]?key|authorization|cookie/i;

/** Custom attributes go under authwatch.attr.<key>, never at the top level. */
export const CUSTOM_ATTRIBUTE_PREFIX = 'authwatch.attr.';

function set(attrs: LogAttributes, key: string, value: string | number | boolean | null | undefined): void {
  if (value !== null && value !== undefined && value !== '') attrs[key] = value;
}

export function attributesOf(event: StoredEvent): LogAttributes {
  const a: LogAttributes = {};
  set(a, ATTR_USER_NAME, event.user);
  set(a, ATTR_USER_ID, event.user_id);
  set(a, ATTR_USER_EMAIL, event.email);
  set(a, ATTR_SESSION_ID, event.session_id); // already the keyed hash; the raw id never reaches us
  set(a, ATTR_CLIENT_ADDRESS, event.ip);
  set(a, ATTR_USER_AGENT_ORIGINAL, event.user_agent);
  set(a, ATTR_USER_AGENT_NAME, event.browser);
  set(a, ATTR_USER_AGENT_VERSION, event.browser_version);
  set(a, ATTR_USER_AGENT_OS_NAME, event.os);
  set(a, ATTR_USER_AGENT_OS_VERSION, event.os_version);
  // "private"/"reserved" are not ISO codes: keep them out of geo.country.iso_code.
  if (event.country && /^[A-Z]{2}$/.test(event.country)) a[ATTR_GEO_COUNTRY_ISO_CODE] = event.country;
  else set(a, 'authwatch.network.scope', event.country);
  set(a, ATTR_GEO_LOCALITY_NAME, event.city);
  set(a, ATTR_GEO_LOCATION_LAT, event.latitude);
  set(a, ATTR_GEO_LOCATION_LON, event.longitude);
  set(a, ATTR_CLIENT_AS_NUMBER, event.asn);
  set(a, ATTR_CLIENT_AS_ORGANIZATION, event.isp);

  set(a, 'authwatch.event.id', event.id);
  set(a, 'authwatch.event.type', event.type);
  set(a, 'authwatch.outcome', event.outcome);
  set(a, 'authwatch.reason', event.reason);
  set(a, 'authwatch.service', event.service);
  set(a, 'authwatch.entry', event.entry);
  set(a, 'authwatch.app_version', event.app_version);
  set(a, 'authwatch.device', event.device);
  set(a, 'authwatch.device.type', event.device_type);
  set(a, 'authwatch.actor', event.actor);
  if (event.type === 'lockout') set(a, 'authwatch.lockout.scope', stringAttr(event.attributes?.scope));
  if (event.type === 'detection') set(a, 'authwatch.detection.kind', event.reason);

  for (const [key, value] of Object.entries(event.attributes ?? {})) {
    if (SECRET_KEY.test(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      a[CUSTOM_ATTRIBUTE_PREFIX + key] = value;
    }
  }
  return a;
}

function stringAttr(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function toLogRecord(event: StoredEvent): LogRecord {
  const severity = severityOf(event);
  return {
    eventName: eventName(event.type),
    timestamp: event.time,
    observedTimestamp: event.received_at,
    severityNumber: severity.number,
    severityText: severity.text,
    // User-supplied text (user, service, actor…) is in the body: text log viewers must not get a
    // line break, carriage return or terminal escape from it.
    body: escapeControl(describe(event)),
    attributes: attributesOf(event),
  };
}
