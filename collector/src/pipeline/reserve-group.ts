// Attempt reservations (`/v1/check` with "attempt": true) inside one write transaction. The SQLite
// writer thread runs every reservation that arrived while it was busy in one transaction, ahead of
// its next group commit (store/sqlite-ingest.ts), so a check waits for at most the group commit
// under way instead of queueing behind every group and every other check's own commit.
import type { ProcessContext } from './contracts';
import { ATTEMPT_STATE, reserveAttempt, type CheckAnswer } from '../decision/check';
import { ATTEMPT_SETTLED_STATE } from '../decision/rules';
import { counterKeys, keyRules, subjectOf } from '../schema/lock-keys';
import type { StoredEvent } from '../schema/stored-event';
import type { CoreWriteTx } from '../store/store';

export type { CheckAnswer };

/** One reservation as the check API received it (name and address as sent). */
export interface ReserveRequest {
  user: string;
  ip: string | null;
  attemptId?: string;
}

/** Reservations to run in one transaction, on the collector's clock. */
export interface ReserveGroup {
  reservations: ReserveRequest[];
  now: number;
}

export type ReserveOutcome = { ok: true; answer: CheckAnswer } | { ok: false; error: unknown };

/** One outcome per reservation, in order; the events the transaction stored (expired attempts). */
export interface ReserveGroupResult {
  answers: ReserveOutcome[];
  emitted: StoredEvent[];
}

/**
 * Runs the group's reservations in order inside the caller's transaction. `isolate`: each in its
 * own savepoint, so one that fails is refused alone (the transaction holds other work); otherwise
 * an error fails the transaction. `truncate` is AUTHWATCH_IP_TRUNCATE, as the lockout counts keys.
 */
export async function reserveInTx(tx: CoreWriteTx, group: ReserveGroup, truncate: boolean, isolate: boolean): Promise<ReserveGroupResult> {
  const emitted: StoredEvent[] = [];
  const ctx: ProcessContext = {
    now: group.now,
    tx,
    policy: await tx.getPolicy(),
    emit: (e) => emitted.push(e),
  };
  const rules = keyRules(ctx.policy, truncate);
  const subjects = group.reservations.map((r) => subjectOf(r.user, r.ip, rules));
  // A store a round trip away reads what every reservation of the group asks about at once, and
  // again after a reservation's savepoint rolled back (that empties its caches).
  const want = {
    users: subjects.flatMap((s) => (s.userKey === null ? [] : [s.userKey])),
    ips: subjects.flatMap((s) => (s.ipKey === null ? [] : [s.ipKey])),
    counters: subjects.flatMap((s) => Object.values(counterKeys(s)).filter((k): k is string => k !== null)),
    state: group.reservations.flatMap((r) => (r.attemptId === undefined ? [] : [[ATTEMPT_STATE, r.attemptId] as const, [ATTEMPT_SETTLED_STATE, r.attemptId] as const])),
  };
  await tx.prefetchKeys?.(want);
  const answers: ReserveOutcome[] = [];
  for (const [j, r] of group.reservations.entries()) {
    const one = () => reserveAttempt(ctx, subjects[j], r.attemptId);
    if (!isolate) {
      answers.push({ ok: true, answer: await one() });
      continue;
    }
    const mark = emitted.length;
    try {
      answers.push({ ok: true, answer: await tx.savepoint(one) });
    } catch (error) {
      emitted.length = mark;
      answers.push({ ok: false, error });
      await tx.prefetchKeys?.(want);
    }
  }
  if (emitted.length) await tx.insertEvents(emitted);
  return { answers, emitted };
}
