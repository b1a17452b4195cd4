// The windowed detections' windows when several replicas write one PostgreSQL database: kept in
// the store, so a detection fires once whichever replica saw the events. A key's windows are a
// log (WindowLog in store/shared-state.ts; PostgreSQL's window_log table): a small head row in
// state (the cooldowns, where the log stands, the last write's attempts) and one log row per
// batch that added to the key, with a snapshot of the whole window every SNAPSHOT_EVERY rows. A
// batch writes only what it added, and reads only what other replicas wrote since this replica
// last saw the key: each replica keeps the windows it has seen, checked against the log's tokens
// before use. Rewriting each key's window whole made a batch's cost grow with the windows it
// touched (up to 10,000 attempts per key). The transaction holds the per-key lock of every user
// and address in the batch, so two replicas never write one key's log at once.
import { windowLogOf, type WindowLogRange, type WindowLogWrite } from '../../store/shared-state';
import type { WriteTx } from '../../store/store';
import { AttemptWindow, type Attempt, type SerializedWindow } from './attempt-window';
import type { KeyWindows } from './windowed-keys';

/** Log rows between two snapshots: a replica that missed more reads a snapshot and at most this many rows. */
export const SNAPSHOT_EVERY = 32;

/** Steps a saved window's expiry moves in. */
export const EXPIRY_STEP_MS = 5 * 60_000;

/**
 * A saved window's expiry: `at` rounded up to EXPIRY_STEP_MS. A key written batch after batch
 * keeps the same expiry for minutes, so PostgreSQL can update its head row in place (its
 * expires_at index is not touched). Keeping a quiet key's rows up to a step longer changes
 * nothing: a window counts its attempts by their times, not by the row's expiry.
 */
export function stateExpiry(at: number): number {
  return Math.ceil(at / EXPIRY_STEP_MS) * EXPIRY_STEP_MS;
}

/**
 * A key's head row: its cooldowns and where its log stands. With two replicas taking turns, a
 * replica is usually one write behind: the head carries that write's attempts (d), so the
 * statement that reads the batch's state rows brings them and the log is read only further behind.
 */
interface Head {
  /** Per detection, the event time of its last detection for the key (the cooldown), or null. */
  f: (number | null)[];
  /** The log's generation, its next seq, the latest snapshot's seq (-1 before the first). */
  g: number;
  n: number;
  s: number;
  /** The last write's token and the one before it (the state it was written on top of). */
  t: number;
  p: number;
  /** The last write's attempts, when it was not a snapshot. */
  d?: SerializedWindow;
}

/** A key's windows as this replica last saw them committed: valid while the log's token at n − 1 is t. */
interface Cached {
  g: number;
  n: number;
  t: number;
  ws: AttemptWindow[];
}

interface Entry {
  ws: AttemptWindow[];
  fired: (number | null)[];
  head: Head;
  /** Attempts this batch added, in order: the log row it writes. */
  added: Attempt[];
  dirty: boolean;
}

/** A log generation or a write's token: unique with near certainty, not secret (only replicas write the log). */
const random48 = () => Math.floor(Math.random() * 2 ** 48);

/** The head of a key with no log (or a log expired): a new generation. */
const freshHead = (): Head => ({ f: [], g: random48(), n: 0, s: -1, t: 0, p: 0 });

/**
 * Attempts a replica keeps in memory per detection set, at most (~100 bytes each): only a cache,
 * the log is the truth, so beyond it the least recently used keys are read from the log again.
 * Without a bound, an attacker spraying from many addresses would grow every replica's memory with
 * the attempts of a whole window.
 */
export const CACHE_ATTEMPTS = 500_000;

/**
 * The windows this replica has seen, per detection set: at most maxKeys keys and maxAttempts
 * attempts, least recently used out first, and a key is let go once its windows have been quiet
 * for the longest of them (the log still has it).
 */
export class WindowCache {
  private readonly map = new Map<string, { cached: Cached; attempts: number }>();
  private attempts = 0;
  private newest = -Infinity;

  constructor(
    private readonly maxKeys: number,
    private readonly longestMs: number,
    private readonly maxAttempts = CACHE_ATTEMPTS,
  ) {}

  /** Keys and attempts held. */
  get size(): { keys: number; attempts: number } {
    return { keys: this.map.size, attempts: this.attempts };
  }

  /** The key's windows, taken out (a batch works on them). */
  take(key: string): Cached | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.attempts -= e.attempts;
    return e.cached;
  }

  put(key: string, cached: Cached): void {
    this.take(key);
    // The windows share their attempts; the longest holds them all.
    const attempts = Math.max(...cached.ws.map((w) => w.attempts));
    const latest = cached.ws[0]?.latestTime ?? -Infinity;
    if (latest > this.newest) this.newest = latest;
    this.map.set(key, { cached, attempts });
    this.attempts += attempts;
    for (const [k, e] of this.map) {
      if (this.map.size <= this.maxKeys && this.attempts <= this.maxAttempts) break;
      this.map.delete(k);
      this.attempts -= e.attempts;
    }
  }

  /** Drops keys quiet for a whole window, least recently used first. */
  expire(): void {
    const cutoff = this.newest - this.longestMs;
    for (const [k, e] of this.map) {
      if (e.cached.ws[0].latestTime > cutoff) break;
      this.map.delete(k);
      this.attempts -= e.attempts;
    }
  }
}

/** The windows of one batch's keys, read from and written to the store's log. */
export class SharedWindows implements KeyWindows {
  private readonly keys = new Map<string, Entry>();
  private readonly longest: number;

  constructor(
    private readonly namespace: string,
    private readonly views: readonly number[],
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
    private readonly cache: WindowCache,
  ) {
    this.longest = views.indexOf(Math.max(...views));
  }

  private fresh(): AttemptWindow[] {
    return this.views.map((ms) => new AttemptWindow(ms, this.track));
  }

  async load(tx: WriteTx, keys: Iterable<string>): Promise<void> {
    // Up to date: the cache's windows as they are. One write behind: that write's attempts, from
    // the head. Further behind: the log's rows since, the first written on top of what the cache
    // holds. Otherwise (nothing cached, the log moved past a snapshot, or the cache holds a write
    // that was rolled back): the last snapshot and the rows since.
    const ranges: WindowLogRange[] = [];
    const plans: { key: string; head: Head; fired: (number | null)[]; cached: Cached | undefined }[] = [];
    for (const key of new Set(keys)) {
      if (this.keys.has(key)) continue;
      // Read under the key's lock; then the cached windows are taken out: whatever this batch does
      // to them, the cache holds them again only with the token this batch writes (save), so a
      // batch that fails midway leaves nothing stale behind.
      const head = await tx.getState<Head>(this.namespace, key);
      const cached = this.cache.take(key);
      if (!head) {
        this.keys.set(key, this.entry(this.fresh(), freshHead()));
        continue;
      }
      const fired = this.views.map((_, i) => head.f[i] ?? null);
      const same = cached !== undefined && cached.g === head.g;
      if (same && cached.n === head.n && cached.t === head.t) {
        this.keys.set(key, this.entry(cached.ws, head, fired));
      } else if (same && cached.n === head.n - 1 && cached.t === head.p && head.d) {
        this.keys.set(key, this.entry(this.replay(cached.ws, [head.d]), head, fired));
      } else {
        const behind = same && cached.n < head.n && cached.n > head.s;
        ranges.push({ key, gen: head.g, from: behind ? cached.n : Math.max(head.s, 0), to: head.n });
        plans.push({ key, head, fired, cached: behind ? cached : undefined });
      }
    }
    if (!ranges.length) return;
    /** The key's windows: `base` with the rows read replayed on top. */
    const settle = (p: (typeof plans)[number], base: AttemptWindow[], rows: { saved: SerializedWindow }[]) =>
      this.keys.set(p.key, this.entry(this.replay(base, rows.map((r) => r.saved)), p.head, p.fired));
    const again: WindowLogRange[] = [];
    const retry: typeof plans = [];
    (await this.read(tx, ranges)).forEach((rows, i) => {
      const p = plans[i];
      if (p.cached && (rows[0]?.seq !== p.cached.n || rows[0].prev !== p.cached.t)) {
        // Not written on top of what the cache holds (a rolled-back write of ours): all again.
        again.push({ key: p.key, gen: p.head.g, from: Math.max(p.head.s, 0), to: p.head.n });
        retry.push(p);
        return;
      }
      settle(p, p.cached ? p.cached.ws : this.fresh(), rows);
    });
    if (!again.length) return;
    (await this.read(tx, again)).forEach((rows, i) => settle(retry[i], this.fresh(), rows));
  }

  /** The log rows of each range, in order, their attempts parsed. */
  private async read(tx: WriteTx, ranges: WindowLogRange[]): Promise<{ seq: number; prev: number; saved: SerializedWindow }[][]> {
    const byRange = ranges.map((): { seq: number; prev: number; saved: SerializedWindow }[] => []);
    for (const r of await windowLogOf(tx).readWindowLog(this.namespace, ranges)) {
      byRange[r.range].push({ seq: r.seq, prev: r.prev, saved: JSON.parse(r.data) as SerializedWindow });
    }
    return byRange;
  }

  private entry(ws: AttemptWindow[], head: Head, fired: (number | null)[] = this.views.map(() => null)): Entry {
    return { ws, fired, head, added: [], dirty: false };
  }

  /** Adds the saved attempts, in order, to every window. */
  private replay(ws: AttemptWindow[], saved: readonly SerializedWindow[]): AttemptWindow[] {
    for (const x of saved) for (const a of AttemptWindow.decode(this.track, x)) for (const w of ws) w.add(a);
    return ws;
  }

  private get(key: string): Entry {
    let e = this.keys.get(key);
    if (!e) {
      // A key load() was not given: a fresh generation (its head row, if any, is overwritten).
      e = this.entry(this.fresh(), freshHead());
      this.keys.set(key, e);
    }
    return e;
  }

  add(key: string, attempt: Attempt): readonly AttemptWindow[] {
    const e = this.get(key);
    for (const w of e.ws) w.add(attempt);
    e.added.push(attempt);
    e.dirty = true;
    return e.ws;
  }

  mayFire(view: number, key: string, t: number): boolean {
    const e = this.get(key);
    const prev = e.fired[view];
    if (prev !== null && Math.abs(t - prev) < this.cooldownMs) return false;
    e.fired[view] = t;
    e.dirty = true;
    return true;
  }

  /**
   * Writes each changed key's log row (what the batch added, or every SNAPSHOT_EVERY rows the
   * whole window) and head; the store drops a key quiet for a window and a cooldown.
   */
  async save(tx: WriteTx, now: number): Promise<void> {
    const expiresAt = stateExpiry(now + Math.max(this.views[this.longest], this.cooldownMs));
    const rows: WindowLogWrite[] = [];
    const heads: [string, Head][] = [];
    for (const [key, e] of this.keys) {
      const h = e.head;
      if (!e.dirty) {
        this.cache.put(key, { g: h.g, n: h.n, t: h.t, ws: e.ws });
        continue;
      }
      const token = random48();
      const snapshot = h.n - Math.max(h.s, 0) >= SNAPSHOT_EVERY;
      const data = snapshot ? e.ws[this.longest].toJSON() : AttemptWindow.encode(e.added, this.track);
      rows.push({ key, gen: h.g, seq: h.n, prev: h.t, data: JSON.stringify(data), expiresAt, snapshot });
      const head: Head = { f: e.fired, g: h.g, n: h.n + 1, s: snapshot ? h.n : h.s, t: token, p: h.t };
      if (!snapshot) head.d = data;
      heads.push([key, head]);
      this.cache.put(key, { g: h.g, n: h.n + 1, t: token, ws: e.ws });
    }
    this.cache.expire();
    if (rows.length) await windowLogOf(tx).appendWindowLog(this.namespace, rows);
    for (const [key, head] of heads) await tx.putState<Head>(this.namespace, key, head, expiresAt);
  }
}
