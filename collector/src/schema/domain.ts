// The collector's domain records: the lockout and session policy, sessions, locks and attempt
// reservations, as the store keeps them and the API shows them.

export type LockScope = 'user' | 'user_ip' | 'ip';
export type Escalation = 'none' | 'linear' | 'multiple';

export interface Policy {
  max_failed_attempts: number;
  window_seconds: number;
  lock_seconds: number;
  escalation: Escalation;
  max_lock_seconds: number;
  /** Locks after which the next one is permanent; null = never permanent, 0 = always. */
  permanent_after: number | null;
  scope: 'user' | 'user_ip';
  ip_max_failed_attempts: number;
  idle_timeout_seconds: number;
  single_session: boolean;
  session_ip_binding: boolean;
  /** User names differ by case (NFC always applies). */
  user_case_sensitive: boolean;
  /** IPv6 addresses are counted and blocked by this prefix length. */
  ipv6_prefix: number;
  /** An attempt reserved by /v1/check and never settled counts as a failure after this long. */
  attempt_ttl_seconds: number;
}

export interface SessionRow {
  /** Keyed hash (hex) of the client's session id. */
  id: string;
  user: string;
  user_id: string | null;
  ip: string | null;
  country: string | null;
  city: string | null;
  isp: string | null;
  asn: number | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  device_type: string | null;
  service: string | null;
  started_at: number;
  last_seen_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

export interface LockRow {
  id: number;
  scope: LockScope;
  /** null for scope "ip". */
  user: string | null;
  ip: string | null;
  failures: number;
  locked_at: number;
  /** null = until an admin unlocks. */
  locked_until: number | null;
  reason: string;
  unlocked_at: number | null;
  unlocked_by: string | null;
}

export type NewLock = Omit<LockRow, 'id' | 'unlocked_at' | 'unlocked_by'>;

/** One login attempt reserved by POST /v1/check {"attempt": true}, until its outcome arrives. */
export interface Reservation {
  id: string;
  /** Lockout keys (normalised user, canonical IP or IPv6 prefix). */
  user: string | null;
  ip: string | null;
  /** As the application sent them, for the event written when the reservation expires. */
  display_user: string | null;
  display_ip: string | null;
  created_at: number;
  expires_at: number;
  /** Expired unsettled: already counted as a failure. */
  expired: boolean;
}
