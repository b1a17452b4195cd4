// Lockout engine. Failed logins are counted per user, per user+IP and per IP in a sliding window
// (event time); more than max_failed_attempts for the policy's scope locks the user (or the
// user+IP pair), more than ip_max_failed_attempts blocks the IP. Locks escalate with the key's
// earlier locks and may become permanent. A success resets the user and user+IP counts; failures
// while a lock is in force are not counted. Runs inside the store's serialised write transaction,
// so concurrent batches count exactly.
import type { StoredEvent } from '../schema/stored-event';
import type { LockRow, LockScope, Policy } from '../store/store';
import { derivedEvent, type CoreProcessContext, type CoreProcessor } from './core';

export const userKey = (user: string) => `u:${user}`;
export const userIpKey = (user: string, ip: string) => `ui:${user}\u0000${ip}`;
export const ipKey = (ip: string) => `i:${ip}`;

/** Lock length in ms for a key that already had `earlier` locks; null = permanent. */
export function lockDurationMs(policy: Policy, earlier: number): number | null {
  if (policy.permanent_after !== null && earlier >= policy.permanent_after) return null;
  const factor = policy.escalation === 'linear' ? earlier + 1 : policy.escalation === 'multiple' ? 2 ** Math.min(earlier, 40) : 1;
  return Math.min(policy.lock_seconds * factor, policy.max_lock_seconds) * 1000;
}

export const CHECK_REASON: Record<LockScope, 'user_locked' | 'user_ip_locked' | 'ip_blocked'> = {
  user: 'user_locked',
  user_ip: 'user_ip_locked',
  ip: 'ip_blocked',
};

export type CheckAnswer = { allowed: true } | { allowed: false; reason: 'user_locked' | 'user_ip_locked' | 'ip_blocked'; retry_after: number | null };

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

async function lock(ctx: CoreProcessContext, e: StoredEvent, scope: LockScope, failures: number, key: string): Promise<void> {
  const user = scope === 'ip' ? null : e.user;
  const ip = e.ip;
  const earlier = await ctx.tx.countLocks(scope, user, ip);
  const duration = lockDurationMs(ctx.policy, earlier);
  const lockedUntil = duration === null ? null : e.time + duration;
  await ctx.tx.insertLock({ scope, user, ip, failures, locked_at: e.time, locked_until: lockedUntil, reason: 'too_many_failures' });
  // The count starts again when the lock ends.
  await ctx.tx.clearFailures([key]);
  const attributes: Record<string, string | number | boolean> = { scope, failures, permanent: lockedUntil === null };
  if (ip) attributes.ip = ip;
  if (lockedUntil !== null) attributes.locked_until = lockedUntil;
  ctx.emit(
    derivedEvent(ctx.now, {
      time: e.time,
      type: 'lockout',
      user: e.user,
      ip,
      reason: 'too_many_failures',
      service: e.service,
      country: e.country,
      city: e.city,
      asn: e.asn,
      isp: e.isp,
      attributes,
    }),
  );
}

export function createLockoutProcessor(): CoreProcessor {
  return {
    name: 'lockout',
    async process(events, ctx) {
      const { policy, tx } = ctx;
      const windowMs = policy.window_seconds * 1000;
      let pruned = false;
      for (const e of events) {
        if (e.type !== 'login' || !e.outcome) continue;
        if (!pruned) {
          // Counter rows older than any window we could still look at are dead weight.
          await tx.pruneFailures(Math.min(ctx.now, e.time) - windowMs);
          pruned = true;
        }
        if (e.outcome === 'success') {
          await tx.clearFailures(e.ip ? [userKey(e.user), userIpKey(e.user, e.ip)] : [userKey(e.user)]);
          continue;
        }
        if ((await tx.activeLocks(e.user, e.ip, e.time)).length > 0) continue;
        const keys = e.ip ? [userKey(e.user), userIpKey(e.user, e.ip), ipKey(e.ip)] : [userKey(e.user)];
        const counts = await tx.addFailure(keys, e.time, e.time - windowMs);
        if (policy.scope === 'user' && counts[0] > policy.max_failed_attempts) await lock(ctx, e, 'user', counts[0], keys[0]);
        if (policy.scope === 'user_ip' && e.ip && counts[1] > policy.max_failed_attempts) await lock(ctx, e, 'user_ip', counts[1], keys[1]);
        if (e.ip && counts[2] > policy.ip_max_failed_attempts) await lock(ctx, e, 'ip', counts[2], keys[2]);
      }
    },
  };
}
