// Sliding window of login attempts for one key (a user or an IP), with the counts the windowed
// detections need kept up to date incrementally, so each event costs O(1) amortised.

export interface Attempt {
  t: number;
  user: string;
  ip: string | null;
  failure: boolean;
  /** The failure said the account does not exist (invalid_user…). */
  unknownUser: boolean;
}

export type SerializedAttempt = [t: number, user: string, ip: string | null, flags: number];
/** An attempt when the window tracks only one of user and address: the other is its key. */
export type CompactAttempt = [t: number, name: string | null, flags: number];
/**
 * A window's live attempts. With `b`, times are relative to it and, when only one of user and
 * address is tracked, an attempt keeps only that one (the window's key is the other): 50–70 % of
 * the text of full attempts, read and rewritten for every key a batch touches on PostgreSQL.
 * Without `b`: full attempts, as windows were first saved.
 */
export interface SerializedWindow {
  b?: number;
  e: (SerializedAttempt | CompactAttempt)[];
}

/** Entries kept per key at most; older ones are dropped first (the counts stay consistent). */
const MAX_ENTRIES = 10_000;

/** A user's attempts and failures in one number: attempts × 2^16 + failures (both ≤ MAX_ENTRIES). */
const PER_USER_FAILURES = 0x10000;

/**
 * Counts per name (user or address) in one window. Most windows only ever see one name (an
 * address tried once, a user from one address), so the first is held inline and a Map is made
 * for a second: an address's two windows take ~0.7 kB instead of ~1.7 kB, so an attacker who
 * invents addresses or users fills the key cap with less memory. Names keep a Map's order.
 */
class Tally {
  private one: string | undefined = undefined;
  private oneValue = 0;
  private many: Map<string, number> | null = null;

  get size(): number {
    if (this.many) return this.many.size;
    return this.one === undefined ? 0 : 1;
  }

  get(name: string): number {
    if (this.many) return this.many.get(name) ?? 0;
    return name === this.one ? this.oneValue : 0;
  }

  /** Sets name's count; 0 removes the name. */
  set(name: string, value: number): void {
    if (this.many) {
      if (value === 0) this.many.delete(name);
      else this.many.set(name, value);
    } else if (this.one === undefined || name === this.one) {
      this.one = value === 0 ? undefined : name;
      this.oneValue = value;
    } else if (value !== 0) {
      this.many = new Map([
        [this.one, this.oneValue],
        [name, value],
      ]);
      this.one = undefined;
    }
  }

  *names(): IterableIterator<string> {
    if (this.many) yield* this.many.keys();
    else if (this.one !== undefined) yield this.one;
  }
}

export class AttemptWindow {
  private entries: Attempt[] = [];
  private head = 0;
  private latest = -Infinity;
  /** Per user: attempts and failures (PER_USER_FAILURES); per address: attempts. Only what is tracked. */
  private readonly perUser: Tally | null;
  private readonly perIp: Tally | null;
  attempts = 0;
  failures = 0;
  unknownUserFailures = 0;
  /** Distinct users with at least one failure in the window (when users are tracked). */
  failingUsers = 0;

  /** Per-key counts cost a lookup per event: a window keyed by user tracks IPs only, and vice versa. */
  constructor(
    private readonly windowMs: number,
    track: { users: boolean; ips: boolean },
  ) {
    this.perUser = track.users ? new Tally() : null;
    this.perIp = track.ips ? new Tally() : null;
  }

  get distinctUsers(): number {
    return this.perUser?.size ?? 0;
  }

  get distinctIps(): number {
    return this.perIp?.size ?? 0;
  }

  /** Time of the newest attempt added (-Infinity before the first). */
  get latestTime(): number {
    return this.latest;
  }

  get successes(): number {
    return this.attempts - this.failures;
  }

  add(a: Attempt): void {
    if (a.t > this.latest) this.latest = a.t;
    // A first attempt in an array of its own size (a pushed-to empty array reserves 16 slots).
    if (this.entries.length === 0) this.entries = [a];
    else this.entries.push(a);
    this.attempts++;
    if (a.failure) {
      this.failures++;
      if (a.unknownUser) this.unknownUserFailures++;
    }
    if (this.perUser) {
      const u = this.perUser.get(a.user);
      if (a.failure && u % PER_USER_FAILURES === 0) this.failingUsers++;
      this.perUser.set(a.user, u + PER_USER_FAILURES + (a.failure ? 1 : 0));
    }
    if (this.perIp && a.ip) this.perIp.set(a.ip, this.perIp.get(a.ip) + 1);
    this.prune();
  }

  /** The live attempts, oldest first (encode). */
  toJSON(): SerializedWindow {
    return AttemptWindow.encode(this.entries, { users: this.perUser !== null, ips: this.perIp !== null }, this.head);
  }

  /**
   * Attempts as saved: [t − b, user or address, flags (1 failure, 2 unknown user)], b the first's
   * time; with both user and address tracked, [t − b, user, address, flags].
   */
  static encode(attempts: readonly Attempt[], track: { users: boolean; ips: boolean }, from = 0): SerializedWindow {
    const b = from < attempts.length ? attempts[from].t : 0;
    const one = track.users !== track.ips;
    const e: (SerializedAttempt | CompactAttempt)[] = [];
    for (let i = from; i < attempts.length; i++) {
      const a = attempts[i];
      const flags = (a.failure ? 1 : 0) | (a.unknownUser ? 2 : 0);
      e.push(one ? [a.t - b, track.users ? a.user : a.ip, flags] : [a.t - b, a.user, a.ip, flags]);
    }
    return { b, e };
  }

  /** The attempts encode saved, in their order. */
  static decode(track: { users: boolean; ips: boolean }, saved: SerializedWindow): Attempt[] {
    const b = saved.b ?? 0;
    return saved.e.map((x): Attempt => {
      if (x.length === 3) {
        const [dt, name, flags] = x;
        return { t: b + dt, user: track.users ? (name ?? '') : '', ip: track.users ? null : name, failure: (flags & 1) !== 0, unknownUser: (flags & 2) !== 0 };
      }
      const [t, user, ip, flags] = x;
      return { t: b + t, user, ip, failure: (flags & 1) !== 0, unknownUser: (flags & 2) !== 0 };
    });
  }

  /** The window toJSON saved: the same attempts added again, so every count is as it was. */
  static fromJSON(windowMs: number, track: { users: boolean; ips: boolean }, saved: SerializedWindow): AttemptWindow {
    return AttemptWindow.restore([windowMs], track, saved)[0];
  }

  /**
   * One window per length from what toJSON saved (the longest window's attempts): each attempt
   * is decoded once and added to every window, which keeps only those inside its own length.
   */
  static restore(windows: readonly number[], track: { users: boolean; ips: boolean }, saved: SerializedWindow): AttemptWindow[] {
    const ws = windows.map((ms) => new AttemptWindow(ms, track));
    for (const a of AttemptWindow.decode(track, saved)) for (const w of ws) w.add(a);
    return ws;
  }

  /** A few users seen in the window, for evidence. */
  sampleUsers(n: number): string[] {
    const out: string[] = [];
    if (!this.perUser) return out;
    for (const user of this.perUser.names()) {
      if (out.length >= n) break;
      out.push(user);
    }
    return out;
  }

  private prune(): void {
    const cutoff = this.latest - this.windowMs;
    while (this.head < this.entries.length && (this.entries[this.head].t <= cutoff || this.entries.length - this.head > MAX_ENTRIES)) {
      this.drop(this.entries[this.head]);
      this.head++;
    }
    // Compact once the dead prefix dominates, keeping pushes amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private drop(a: Attempt): void {
    this.attempts--;
    if (a.failure) {
      this.failures--;
      if (a.unknownUser) this.unknownUserFailures--;
    }
    if (this.perUser) {
      const u = this.perUser.get(a.user) - PER_USER_FAILURES - (a.failure ? 1 : 0);
      if (a.failure && u % PER_USER_FAILURES === 0) this.failingUsers--;
      this.perUser.set(a.user, u);
    }
    if (this.perIp && a.ip) this.perIp.set(a.ip, this.perIp.get(a.ip) - 1);
  }
}
