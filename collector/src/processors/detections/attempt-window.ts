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

interface PerUser {
  attempts: number;
  failures: number;
}

/** Entries kept per key at most; older ones are dropped first (the counts stay consistent). */
const MAX_ENTRIES = 10_000;

export class AttemptWindow {
  private entries: Attempt[] = [];
  private head = 0;
  private latest = -Infinity;
  private readonly perUser = new Map<string, PerUser>();
  private readonly perIp = new Map<string, number>();
  attempts = 0;
  failures = 0;
  unknownUserFailures = 0;
  /** Distinct users with at least one failure in the window (when users are tracked). */
  failingUsers = 0;
  lastUser = '';

  /** Per-key maps cost a lookup per event: a window keyed by user tracks IPs only, and vice versa. */
  constructor(
    private readonly windowMs: number,
    private readonly track: { users: boolean; ips: boolean },
  ) {}

  get distinctUsers(): number {
    return this.perUser.size;
  }

  get distinctIps(): number {
    return this.perIp.size;
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
    this.entries.push(a);
    this.attempts++;
    let u: PerUser | undefined;
    if (this.track.users) {
      u = this.perUser.get(a.user);
      if (!u) {
        u = { attempts: 0, failures: 0 };
        this.perUser.set(a.user, u);
      }
      u.attempts++;
    }
    if (a.failure) {
      this.failures++;
      if (u && u.failures++ === 0) this.failingUsers++;
      if (a.unknownUser) this.unknownUserFailures++;
    }
    if (this.track.ips && a.ip) this.perIp.set(a.ip, (this.perIp.get(a.ip) ?? 0) + 1);
    this.lastUser = a.user;
    this.prune();
  }

  /** The live attempts, oldest first: [t − b, user or address, flags (1 failure, 2 unknown user)]. */
  toJSON(): SerializedWindow {
    const b = this.head < this.entries.length ? this.entries[this.head].t : 0;
    const one = this.track.users !== this.track.ips;
    const e: (SerializedAttempt | CompactAttempt)[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const a = this.entries[i];
      const flags = (a.failure ? 1 : 0) | (a.unknownUser ? 2 : 0);
      e.push(one ? [a.t - b, this.track.users ? a.user : a.ip, flags] : [a.t - b, a.user, a.ip, flags]);
    }
    return { b, e };
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
    const b = saved.b ?? 0;
    for (const x of saved.e) {
      let a: Attempt;
      if (x.length === 3) {
        const [dt, name, flags] = x;
        a = { t: b + dt, user: track.users ? (name ?? '') : '', ip: track.users ? null : name, failure: (flags & 1) !== 0, unknownUser: (flags & 2) !== 0 };
      } else {
        const [t, user, ip, flags] = x;
        a = { t: b + t, user, ip, failure: (flags & 1) !== 0, unknownUser: (flags & 2) !== 0 };
      }
      for (const w of ws) w.add(a);
    }
    return ws;
  }

  /** A few users seen in the window, for evidence. */
  sampleUsers(n: number): string[] {
    const out: string[] = [];
    for (const user of this.perUser.keys()) {
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
    const u = this.track.users ? this.perUser.get(a.user)! : undefined;
    if (u) u.attempts--;
    if (a.failure) {
      this.failures--;
      if (u && --u.failures === 0) this.failingUsers--;
      if (a.unknownUser) this.unknownUserFailures--;
    }
    if (u && u.attempts === 0) this.perUser.delete(a.user);
    if (this.track.ips && a.ip) {
      const n = (this.perIp.get(a.ip) ?? 1) - 1;
      if (n === 0) this.perIp.delete(a.ip);
      else this.perIp.set(a.ip, n);
    }
  }
}
