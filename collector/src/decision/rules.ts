// The lockout rules, on the collector's clock: failures are counted per user, per user+IP and per
// IP (or IPv6 prefix) in a sliding window; more than max_failed_attempts for the policy's scope
// locks the user (or the pair), more than ip_max_failed_attempts blocks the IP. Locks escalate
// with the key's earlier locks and may become permanent. Failures while a lock is in force are not
// counted. Everything here runs inside the store's serialised write transaction, so it is exact
// under concurrency (across replicas on PostgreSQL).
import type { ProcessContext } from '../pipeline/contracts';
import { derivedEvent } from '../schema/derived-event';
import type { StoredEvent } from '../schema/stored-event';
import type { LockScope, Policy, ReservationKeys } from '../store/store';
import { counterKeys, type Subject } from '../schema/lock-keys';

export { counterKeys };

/** Lock length in ms for a key that already had `earlier` locks; null = permanent. */
export function lockDurationMs(policy: Policy, earlier: number): number | null {
  if (policy.permanent_after !== null && earlier >= policy.permanent_after) return null;
  const factor = policy.escalation === 'linear' ? earlier + 1 : policy.escalation === 'multiple' ? 2 ** Math.min(earlier, 40) : 1;
  return Math.min(policy.lock_seconds * factor, policy.max_lock_seconds) * 1000;
}

/** Event fields a lockout event copies from the failure that caused it. */
export type LockContext = Partial<Pick<StoredEvent, 'service' | 'country' | 'city' | 'asn' | 'isp'>>;

async function lock(ctx: ProcessContext, s: Subject, scope: LockScope, failures: number, counter: string, from: LockContext): Promise<void> {
  const now = ctx.now;
  const user = scope === 'ip' ? null : s.userKey;
  // A user lock keeps the address it was earned from, for the record; only ip/user_ip locks apply by it.
  const ip = s.ipKey;
  const earlier = await ctx.tx.countLocks(scope, user, ip);
  const duration = lockDurationMs(ctx.policy, earlier);
  const lockedUntil = duration === null ? null : now + duration;
  const row = await ctx.tx.insertLock({ scope, user, ip, failures, locked_at: now, locked_until: lockedUntil, reason: 'too_many_failures' });
  // The count starts again when the lock ends.
  await ctx.tx.clearFailures([counter]);
  // lock_id and the keys let the lock cache (decision/lock-cache.ts) follow from committed events.
  const attributes: Record<string, string | number | boolean> = { scope, failures, permanent: lockedUntil === null, lock_id: row.id };
  if (user) attributes.user_key = user;
  if (ip) attributes.ip = ip;
  if (lockedUntil !== null) attributes.locked_until = lockedUntil;
  ctx.emit(
    derivedEvent(now, {
      time: now,
      type: 'lockout',
      user: s.user ?? s.userKey ?? '',
      ip: s.ip,
      reason: 'too_many_failures',
      service: from.service ?? null,
      country: from.country ?? null,
      city: from.city ?? null,
      asn: from.asn ?? null,
      isp: from.isp ?? null,
      attributes,
    }),
  );
}

/**
 * Counts one failure now; locks what crossed its threshold. A lock in force stops the counting of
 * what it covers (it is not extended): a blocked address counts nothing more; a locked account's
 * failures still count against the address they come from, so hammering one locked name from one
 * address still gets that address blocked.
 */
export async function recordFailure(ctx: ProcessContext, s: Subject, from: LockContext = {}): Promise<void> {
  const { policy, tx, now } = ctx;
  const inForce = new Set((await tx.activeLocks(s.userKey, s.ipKey, now)).map((l) => l.scope));
  if (inForce.has('ip')) return;
  const accountLocked = inForce.has('user') || inForce.has('user_ip');
  const k = counterKeys(s);
  const keys = (accountLocked ? [k.ip] : [k.user, k.userIp, k.ip]).filter((x): x is string => x !== null);
  if (!keys.length) return;
  const counts = await tx.addFailure(keys, now, now - policy.window_seconds * 1000);
  const count = (key: string | null) => (key === null ? 0 : counts[keys.indexOf(key)]);
  if (!accountLocked && policy.scope === 'user' && k.user && count(k.user) > policy.max_failed_attempts) await lock(ctx, s, 'user', count(k.user), k.user, from);
  if (!accountLocked && policy.scope === 'user_ip' && k.userIp && count(k.userIp) > policy.max_failed_attempts) await lock(ctx, s, 'user_ip', count(k.userIp), k.userIp, from);
  if (k.ip && count(k.ip) > policy.ip_max_failed_attempts) await lock(ctx, s, 'ip', count(k.ip), k.ip, from);
}

/** A success resets the user's and the pair's counts (not the IP's: one good login is no alibi). */
export async function recordSuccess(ctx: ProcessContext, s: Subject): Promise<void> {
  const k = counterKeys(s);
  const keys = [k.user, k.userIp].filter((x): x is string => x !== null);
  if (keys.length) await ctx.tx.clearFailures(keys);
}

/**
 * Processor state marking an attempt id whose outcome arrived with no reservation to settle (the
 * client stopped waiting for its check): a reservation made for it later is not counted.
 */
export const ATTEMPT_SETTLED_STATE = 'attempt_settled';

/**
 * Reservations never settled within attempt_ttl_seconds count as failures (abandoning an attempt
 * buys nothing), each recorded as a login failure event with reason attempt_expired. `keys`: only
 * the reservations of this user key or IP key (a check expires what its decision counts; the
 * lockout processor and the sweeper expire the rest), so the work per check does not grow with
 * the reservations other clients abandoned.
 */
export async function expireAttempts(ctx: ProcessContext, keys?: ReservationKeys): Promise<number> {
  const expired = await ctx.tx.expireReservations(ctx.now, keys);
  if (expired.length) await ctx.tx.prefetchKeys?.({ users: [], ips: [], counters: [], state: expired.map((r) => [ATTEMPT_SETTLED_STATE, r.id] as const) });
  for (const r of expired) {
    // Its outcome arrived while it was being made and was counted then (PostgreSQL: the batch
    // settling the id committed while the reservation did, neither seeing the other).
    if (await ctx.tx.getState(ATTEMPT_SETTLED_STATE, r.id)) continue;
    const s: Subject = { user: r.display_user, ip: r.display_ip, userKey: r.user, ipKey: r.ip };
    await recordFailure(ctx, s);
    ctx.emit(
      derivedEvent(ctx.now, {
        time: ctx.now,
        type: 'login',
        outcome: 'failure',
        reason: 'attempt_expired',
        user: r.display_user ?? r.user ?? '',
        ip: r.display_ip,
        attributes: { attempt_reserved_at: r.created_at },
      }),
    );
  }
  // Expired rows are kept for a window so a late outcome is not counted twice.
  await ctx.tx.pruneReservations(ctx.now - ctx.policy.window_seconds * 1000);
  return expired.length;
}
