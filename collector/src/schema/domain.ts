// The collector's domain records: the lockout and session policy, sessions, locks and attempt
// reservations, as the store keeps them. Their fields are the wire contract's (@authwatch/wire).

import type { Lockout, Session } from '@authwatch/wire';

export type { LockScope, Escalation, Policy } from '@authwatch/wire';

/** A session as the store keeps it: the wire contract's Session without the derived `state`. */
export type SessionRow = Omit<Session, 'state'>;

/** A lock as the store keeps it: the wire contract's Lockout without the derived `state`. */
export type LockRow = Omit<Lockout, 'state'>;

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
