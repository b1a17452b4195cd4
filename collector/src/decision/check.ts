// The answer to "may this user try to log in from this IP now?" (POST /v1/check). A plain check
// reads the locks in force. An attempt check reserves one attempt inside the write transaction:
// allowed only while recorded failures plus open reservations stay within the policy, so with
// max_failed_attempts 5 at most 6 attempts can ever reach the password check before the lock,
// however many arrive at once and on however many replicas.
import { randomBytes } from 'node:crypto';
import type { ProcessContext } from '../pipeline/contracts';
import type { LockRow, LockScope } from '../store/store';
import type { Subject } from '../schema/lock-keys';
import { ATTEMPT_SETTLED_STATE, counterKeys, expireAttempts } from './rules';

export type DenyReason = 'user_locked' | 'user_ip_locked' | 'ip_blocked' | 'attempt_limit';

export type CheckAnswer =
  | { allowed: true; attempt_id?: string }
  | { allowed: false; reason: DenyReason; retry_after: number | null };

export const CHECK_REASON: Record<LockScope, Exclude<DenyReason, 'attempt_limit'>> = {
  user: 'user_locked',
  user_ip: 'user_ip_locked',
  ip: 'ip_blocked',
};

/** Reasons an application reports for attempts Authwatch itself refused: stored, never counted. */
export const REFUSAL_REASONS: ReadonlySet<string> = new Set([...Object.values(CHECK_REASON), 'attempt_limit', 'locked']);

/** The decision for locks in force: the longest one wins (permanent first). */
export function decide(locks: readonly LockRow[], now: number): CheckAnswer {
  if (locks.length === 0) return { allowed: true };
  let best = locks[0];
  for (const l of locks) {
    if (best.locked_until === null) break;
    if (l.locked_until === null || l.locked_until > best.locked_until) best = l;
  }
  return {
    allowed: false,
    reason: CHECK_REASON[best.scope],
    retry_after: best.locked_until === null ? null : Math.max(1, Math.ceil((best.locked_until - now) / 1000)),
  };
}

/**
 * Processor state marking an attempt id the client chose as reserved (an outcome that came first
 * is marked in ATTEMPT_SETTLED_STATE; marks written before that namespace say 'settled' here).
 */
export const ATTEMPT_STATE = 'attempt';
export type AttemptMark = 'reserved' | 'settled';

/**
 * Reserves one attempt for the subject, or says why not. Runs in the write transaction.
 * `requestedId`: the id the client chose, so an outcome reported after the client stopped waiting
 * for this answer still settles the reservation (no orphan that later counts as a failure), and a
 * retried check does not reserve twice.
 */
export async function reserveAttempt(ctx: ProcessContext, s: Subject, requestedId?: string): Promise<CheckAnswer> {
  const { tx, policy, now } = ctx;
  if (requestedId !== undefined) {
    // Reserved by an earlier try of this check, or its outcome already arrived: nothing to reserve.
    const mark = (await tx.getState<AttemptMark>(ATTEMPT_STATE, requestedId)) ?? (await tx.getState<AttemptMark>(ATTEMPT_SETTLED_STATE, requestedId));
    if (mark) return { allowed: true, attempt_id: requestedId };
  }
  await expireAttempts(ctx, { user: s.userKey, ip: s.ipKey });
  const locks = await tx.activeLocks(s.userKey, s.ipKey, now);
  if (locks.length) return decide(locks, now);
  const k = counterKeys(s);
  const keys = [k.user, k.userIp, k.ip].filter((x): x is string => x !== null);
  const counts = await tx.countFailures(keys, now - policy.window_seconds * 1000);
  const failures = (key: string | null) => (key === null ? 0 : counts[keys.indexOf(key)]);
  const open = await tx.countReservations(s.userKey, s.ipKey);
  const full =
    (policy.scope === 'user' && k.user !== null && failures(k.user) + open.user > policy.max_failed_attempts) ||
    (policy.scope === 'user_ip' && k.userIp !== null && failures(k.userIp) + open.user_ip > policy.max_failed_attempts) ||
    (k.ip !== null && failures(k.ip) + open.ip > policy.ip_max_failed_attempts);
  // The open reservations settle (or expire) within the TTL; then the answer may change.
  if (full) return { allowed: false, reason: 'attempt_limit', retry_after: policy.attempt_ttl_seconds };
  const id = requestedId ?? randomBytes(16).toString('base64url');
  const expiresAt = now + policy.attempt_ttl_seconds * 1000;
  if (requestedId !== undefined) await tx.putState<AttemptMark>(ATTEMPT_STATE, id, 'reserved', expiresAt + policy.window_seconds * 1000);
  await tx.insertReservation({
    id,
    user: s.userKey,
    ip: s.ipKey,
    display_user: s.user,
    display_ip: s.ip,
    created_at: now,
    expires_at: expiresAt,
  });
  return { allowed: true, attempt_id: id };
}
