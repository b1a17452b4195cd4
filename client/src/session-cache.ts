// A small time-bounded memory of "is this session ended?" answers so that enforcing sessions costs
// one collector round trip per session per few seconds, not one per request. Bounded in size; the
// oldest entry goes first (Map keeps insertion order).

export class SessionStateCache {
  private entries = new Map<string, { ended: boolean; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(id: string, now = Date.now()): boolean | undefined {
    const hit = this.entries.get(id);
    if (!hit) return undefined;
    // An ended session never comes back, so that answer needs no refresh.
    if (!hit.ended && hit.expires <= now) {
      this.entries.delete(id);
      return undefined;
    }
    return hit.ended;
  }

  set(id: string, ended: boolean, now = Date.now()): void {
    this.entries.delete(id);
    this.entries.set(id, { ended, expires: now + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Forget a session (the app ended it itself). */
  delete(id: string): void {
    this.entries.delete(id);
  }
}
