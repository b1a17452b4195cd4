// Lockout processor: turns stored login events into the lockout rules' inputs (decision/rules.ts).
// Enforcement runs on the collector's clock: an event's `time` is data; an event stamped further
// back than the window when it arrives is stored but neither counts nor resets (imports and
// backfills never create live locks, an old success is no reset). An event carrying an attempt_id
// settles its reservation (decision/check.ts).
import { keyRules, subjectOf } from '../schema/lock-keys';
import { REFUSAL_REASONS, type AttemptMark } from '../decision/check';
import { ATTEMPT_SETTLED_STATE, expireAttempts, recordFailure, recordSuccess } from '../decision/rules';
import type { Processor } from '../pipeline/contracts';

export interface LockoutOptions {
  /** AUTHWATCH_IP_TRUNCATE is on: keys are built from truncated addresses, as checks are. */
  truncate: boolean;
}

/** Housekeeping (pruning counters, expiring reservations) runs at most this often, on the collector's clock. */
const PREPARE_EVERY_MS = 1000;

export function createLockoutProcessor(options: LockoutOptions = { truncate: false }): Processor {
  // Per batch it was a store round trip and two deletes per group commit. Delaying it by up to a
  // second changes no decision: counting reads only the window, and a reservation counts against
  // its user until the moment it expires into a failure.
  let preparedAt = -Infinity;
  return {
    name: 'lockout',
    async process(events, ctx) {
      const { policy, tx } = ctx;
      const windowMs = policy.window_seconds * 1000;
      const rules = keyRules(policy, options.truncate);
      let prepared = false;
      for (const e of events) {
        const attemptId = e.attempt_id;
        // Settled once, here; sinks and webhooks never see it.
        delete e.attempt_id;
        if (e.type !== 'login' || !e.outcome) continue;
        if (!prepared && (ctx.now - preparedAt >= PREPARE_EVERY_MS || ctx.now < preparedAt)) {
          // Counter rows older than the window are dead weight; lapsed reservations become failures.
          await tx.pruneFailures(ctx.now - windowMs);
          await expireAttempts(ctx);
          preparedAt = ctx.now;
          prepared = true;
        }
        const reservation = attemptId ? await tx.takeReservation(attemptId) : undefined;
        // The outcome came first (the client stopped waiting for its check): a reservation made
        // later for this id must not be left to expire into a failure.
        if (attemptId && !reservation) {
          await tx.putState<AttemptMark>(ATTEMPT_SETTLED_STATE, attemptId, 'settled', ctx.now + (windowMs + policy.attempt_ttl_seconds * 1000));
        }
        // Already counted as a failure when it expired: its late outcome must not count twice.
        if (reservation?.expired && e.outcome === 'failure') continue;
        if (!reservation && e.time < ctx.now - windowMs) continue;
        const subject = subjectOf(e.user, e.ip, rules);
        if (e.outcome === 'success') await recordSuccess(ctx, subject);
        else if (!(e.reason && REFUSAL_REASONS.has(e.reason))) await recordFailure(ctx, subject, e);
      }
    },
  };
}
