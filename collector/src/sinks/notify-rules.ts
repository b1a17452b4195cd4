// Which committed events notify, and what a notification may say. Shared by the webhook and the
// e-mail sink: per-kind rules (AUTHWATCH_NOTIFY_ON, like "notify on successful login, or only on
// failed login"), per-user throttling, and a payload that never carries a session id or secret.
import type { AttributeValue, StoredEvent } from '../schema/stored-event';

/** What a rule names: login_success, login_failure, lockout, new_device, brute_force, … */
export function notificationKind(e: StoredEvent): string {
  if (e.type === 'detection') return e.reason ?? 'detection';
  if (e.type === 'login' && e.outcome) return `login_${e.outcome}`;
  return e.type;
}

/** Security-relevant by default; routine logins only when asked for. */
export const DEFAULT_NOTIFY_ON = [
  'lockout',
  'new_device',
  'new_country',
  'impossible_travel',
  'brute_force',
  'password_spray',
  'credential_stuffing',
];

export class NotifyConfigError extends Error {}

/** A comma-separated list; "detection" means every detection kind, "all" everything. */
export function parseNotifyOn(raw: string | undefined, name = 'AUTHWATCH_NOTIFY_ON'): Set<string> {
  if (raw === undefined || raw.trim() === '') return new Set(DEFAULT_NOTIFY_ON);
  const kinds = new Set(raw.split(',').map((s) => s.trim()).filter(Boolean));
  for (const k of kinds) {
    if (!/^[a-z][a-z0-9_]*$/.test(k)) throw new NotifyConfigError(`${name}: "${k}" is not a snake_case event kind`);
  }
  return kinds;
}

export function matchesRule(kinds: ReadonlySet<string>, e: StoredEvent): boolean {
  if (kinds.has('all')) return true;
  const kind = notificationKind(e);
  return kinds.has(kind) || kinds.has(e.type) || (e.type === 'detection' && kinds.has('detection'));
}

/** At most one notification per (user, kind) per window; bounded memory. */
export class Throttle {
  private readonly last = new Map<string, number>();
  throttled = 0;

  constructor(private readonly windowMs: number, private readonly maxKeys = 100_000) {}

  take(user: string, kind: string, now: number): boolean {
    if (this.windowMs <= 0) return true;
    const key = `${kind}\u0000${user}`;
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < this.windowMs) {
      this.throttled++;
      return false;
    }
    this.last.delete(key);
    if (this.last.size >= this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    this.last.set(key, now);
    return true;
  }
}

export function throttleMsFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.AUTHWATCH_NOTIFY_THROTTLE_SECONDS;
  if (raw === undefined || raw.trim() === '') return 600_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new NotifyConfigError(`AUTHWATCH_NOTIFY_THROTTLE_SECONDS=${raw}: expected seconds ≥ 0`);
  return n * 1000;
}

/** The view of an event a notification carries: no session id, no raw user agent noise. */
export interface NotificationEvent {
  id: string;
  kind: string;
  time: string;
  type: string;
  outcome: string | null;
  reason: string | null;
  user: string;
  user_id: string | null;
  email: string | null;
  service: string | null;
  ip: string | null;
  country: string | null;
  city: string | null;
  asn: number | null;
  isp: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  attributes: Record<string, AttributeValue> | null;
}

export function notificationEvent(e: StoredEvent): NotificationEvent {
  return {
    id: e.id,
    kind: notificationKind(e),
    time: new Date(e.time).toISOString(),
    type: e.type,
    outcome: e.outcome,
    reason: e.reason,
    user: e.user,
    user_id: e.user_id,
    email: e.email,
    service: e.service,
    ip: e.ip,
    country: e.country,
    city: e.city,
    asn: e.asn,
    isp: e.isp,
    browser: e.browser,
    os: e.os,
    device_type: e.device_type,
    attributes: e.attributes,
  };
}

/** One-line human summary used as the e-mail subject and the webhook "text". */
export function summary(n: NotificationEvent): string {
  const where = [n.city, n.country].filter(Boolean).join(', ');
  const from = n.ip ? ` from ${n.ip}${where ? ` (${where})` : ''}` : where ? ` from ${where}` : '';
  const device = [n.browser, n.os].filter(Boolean).join(' on ');
  const on = device ? ` using ${device}` : '';
  const svc = n.service ? ` to ${n.service}` : '';
  switch (n.kind) {
    case 'login_success':
      return `Successful login for ${n.user}${svc}${from}${on}`;
    case 'login_failure':
      return `Failed login for ${n.user}${svc}${from}${on}${n.reason ? ` (${n.reason})` : ''}`;
    case 'lockout':
      return `Account ${n.user} locked after repeated failed logins${from}`;
    case 'new_device':
      return `New device for ${n.user}${on}${from}`;
    case 'new_country':
      return `Login for ${n.user} from a new country${from}`;
    case 'impossible_travel':
      return `Impossible travel for ${n.user}: ${n.attributes?.distance_km ?? '?'} km at ${n.attributes?.speed_kmh ?? '?'} km/h${from}`;
    case 'brute_force':
      return `Brute force against ${n.user}: ${n.attributes?.failures ?? '?'} failures${from}`;
    case 'password_spray':
      return `Password spray${from}: ${n.attributes?.distinct_users ?? '?'} accounts failing`;
    case 'credential_stuffing':
      return `Credential stuffing${from}: ${n.attributes?.distinct_users ?? '?'} accounts tried`;
    default:
      return `${n.kind} for ${n.user}${from}`;
  }
}
