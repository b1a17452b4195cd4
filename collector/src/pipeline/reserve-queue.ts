// Attempt reservations for a store without reserveAttempts of its own (PostgreSQL). Those that
// arrive while groups are being written wait and go together in the next group, one transaction
// with a savepoint each. Before, each was its own transaction: at 200 checks/s during batched
// ingest they queued for the pool's few connections, each held while its transaction waited for
// the batch's locks, and checks took seconds (the client gives up after 300 ms and fails open).
import type { ReserveOutcome, ReserveRequest } from './reserve-group';

/** At most this many per group: two keys each stays within the per-key locks (FINE_LIMIT 64). */
export const MAX_RESERVE_GROUP = 32;
/** Groups in flight at once (the PostgreSQL store keeps a connection for the group commit besides). */
export const RESERVE_PARALLEL = 2;

interface Waiting {
  request: ReserveRequest;
  resolve(o: ReserveOutcome): void;
}

export class ReserveQueue {
  private waiting: Waiting[] = [];
  private running = 0;

  /** `write`: one transaction for the group, one outcome per reservation in order (never rejects for one alone). */
  constructor(private readonly write: (group: ReserveRequest[]) => Promise<ReserveOutcome[]>) {}

  reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ request, resolve });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length && this.running < RESERVE_PARALLEL) {
      const group = this.waiting.splice(0, MAX_RESERVE_GROUP);
      this.running++;
      this.write(group.map((w) => w.request))
        .then(
          (outcomes) => group.forEach((w, i) => w.resolve(outcomes[i] ?? { ok: false, error: new Error('store answered no reservation') })),
          (error: unknown) => group.forEach((w) => w.resolve({ ok: false, error })),
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}
