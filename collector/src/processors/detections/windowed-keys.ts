// Per-key sliding windows plus a per-key cooldown, for the windowed detections (brute force,
// spray, stuffing). Two homes for them:
//  - memory (WindowedKeys), when this process is the only writer (SQLite): O(1) per event. A key's
//    state is freed once it has been quiet for a whole window (its cooldown once the cooldown has
//    passed), not only when the LRU cap is reached: an attacker who invents users or addresses, or
//    plain traffic over weeks, must not grow memory to the cap.
//  - the store's transaction state (SharedWindows), when several replicas write one PostgreSQL
//    database and each sees only its share of an attack: loaded for the batch's keys (the store
//    fetches them in one statement), updated, written back; one row per key for all the
//    detections watching that key. The transaction holds the per-key lock of every user and
//    address in the batch, so two replicas never update one window at once and a detection fires
//    once whichever replica saw the events. Kept as soft state (UNLOGGED on
//    PostgreSQL): a database crash forgets at most one window of attempts and the cooldowns.
import type { ProcessContext } from '../../pipeline/contracts';
import { SOFT_STATE_PREFIX, isSharedTx } from '../../store/shared-state';
import type { WriteTx } from '../../store/store';
import { AttemptWindow, type Attempt, type SerializedWindow } from './attempt-window';
import { BoundedMap } from './bounded-map';

/**
 * The windows one key has for the detections that share it (spray and stuffing both watch an
 * address): one window per detection, each of its own length, all fed the same attempts.
 */
export interface KeyWindows {
  /** Adds the attempt to every one of key's windows and returns them, in the detections' order. */
  add(key: string, attempt: Attempt): readonly AttemptWindow[];
  /** true (and starts the cooldown) when the `view`-th detection may fire for key at time t. */
  mayFire(view: number, key: string, t: number): boolean;
}

/** One detection watching a key: its name (for the shared state) and its window length. */
export interface WindowView {
  kind: string;
  windowMs: number;
}

export class WindowedKeys implements KeyWindows {
  private readonly windows: BoundedMap<string, AttemptWindow[]>;
  private readonly fired: BoundedMap<string, number>[];
  private readonly longestMs: number;
  /** Newest attempt time seen: the clock expiry runs on (event time, so replays behave the same). */
  private newest = -Infinity;

  constructor(
    private readonly views: readonly number[],
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
    maxKeys: number,
  ) {
    this.windows = new BoundedMap(maxKeys);
    this.fired = views.map(() => new BoundedMap(maxKeys));
    this.longestMs = Math.max(...views);
  }

  /** Keys with live state (windows, cooldowns of any detection). */
  get size(): { windows: number; cooldowns: number } {
    return {
      windows: this.windows.size,
      cooldowns: this.fired.reduce((n, f) => n + f.size, 0),
    };
  }

  add(key: string, attempt: Attempt): readonly AttemptWindow[] {
    if (attempt.t > this.newest) this.newest = attempt.t;
    const ws = this.windows.upsert(key, () => this.views.map((ms) => new AttemptWindow(ms, this.track)));
    for (const w of ws) w.add(attempt);
    return ws;
  }

  mayFire(view: number, key: string, t: number): boolean {
    const prev = this.fired[view].get(key);
    if (prev !== undefined && Math.abs(t - prev) < this.cooldownMs) return false;
    this.fired[view].set(key, t);
    return true;
  }

  /**
   * Frees windows whose every attempt is out of the longest window and cooldowns that have
   * passed, both relative to the newest attempt seen. Least recently touched keys come first, so
   * this stops at the first key still live.
   */
  expire(): void {
    const windowCutoff = this.newest - this.longestMs;
    this.windows.evictWhile((ws) => ws[0].latestTime <= windowCutoff);
    const cooldownCutoff = this.newest - this.cooldownMs;
    for (const f of this.fired) f.evictWhile((t) => t <= cooldownCutoff);
  }
}

/**
 * A key's windows and cooldowns as kept in transaction state: one row per key for all the
 * detections watching it. Only the longest window's attempts are kept: every shorter window's
 * attempts are a suffix of them (all windows get the same attempts), and replaying them rebuilds
 * each window with its counts.
 */
interface SavedKey {
  w: SerializedWindow;
  /** Per detection, the event time of its last detection for the key (the cooldown), or null. A
   *  single value is a row written for one detection before rows were shared. */
  f: (number | null)[] | number | null;
}

/** Steps a saved window's expiry moves in. */
export const EXPIRY_STEP_MS = 5 * 60_000;

/**
 * A saved window's expiry: `at` rounded up to EXPIRY_STEP_MS. A key rewritten batch after batch
 * keeps the same expiry for minutes, so PostgreSQL can update its row in place (its expires_at
 * index is not touched). Keeping a quiet key's row up to a step longer changes nothing: a window
 * counts its attempts by their times, not by the row's expiry.
 */
export function stateExpiry(at: number): number {
  return Math.ceil(at / EXPIRY_STEP_MS) * EXPIRY_STEP_MS;
}

/** The windows of one batch's keys, read from and written back to transaction state. */
export class SharedWindows implements KeyWindows {
  private readonly keys = new Map<string, { ws: AttemptWindow[]; fired: (number | null)[]; dirty: boolean }>();
  private readonly longest: number;

  constructor(
    private readonly namespace: string,
    private readonly views: readonly number[],
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
  ) {
    this.longest = views.indexOf(Math.max(...views));
  }

  async load(tx: WriteTx, keys: Iterable<string>): Promise<void> {
    for (const key of new Set(keys)) {
      if (this.keys.has(key)) continue;
      const saved = await tx.getState<SavedKey>(this.namespace, key);
      if (!saved) {
        this.keys.set(key, this.fresh());
        continue;
      }
      const f = Array.isArray(saved.f) ? saved.f : [saved.f];
      this.keys.set(key, {
        ws: AttemptWindow.restore(this.views, this.track, saved.w),
        fired: this.views.map((_, i) => f[i] ?? null),
        dirty: false,
      });
    }
  }

  private fresh() {
    return {
      ws: this.views.map((ms) => new AttemptWindow(ms, this.track)),
      fired: this.views.map(() => null),
      dirty: false,
    };
  }

  private entry(key: string) {
    let e = this.keys.get(key);
    if (!e) {
      e = this.fresh();
      this.keys.set(key, e);
    }
    return e;
  }

  add(key: string, attempt: Attempt): readonly AttemptWindow[] {
    const e = this.entry(key);
    for (const w of e.ws) w.add(attempt);
    e.dirty = true;
    return e.ws;
  }

  mayFire(view: number, key: string, t: number): boolean {
    const e = this.entry(key);
    const prev = e.fired[view];
    if (prev !== null && Math.abs(t - prev) < this.cooldownMs) return false;
    e.fired[view] = t;
    e.dirty = true;
    return true;
  }

  /** Writes back the changed keys; the store drops a key quiet for a window and a cooldown. */
  async save(tx: WriteTx, now: number): Promise<void> {
    const expiresAt = stateExpiry(now + Math.max(this.views[this.longest], this.cooldownMs));
    for (const [key, e] of this.keys) {
      if (e.dirty) await tx.putState<SavedKey>(this.namespace, key, { w: e.ws[this.longest].toJSON(), f: e.fired }, expiresAt);
    }
  }
}

/**
 * The windows of the windowed detections that watch one kind of key: in memory, or in the
 * transaction's state when the store is shared by several replicas (asked per batch, so the same
 * processor serves both stores). Detections sharing a key share one state row per key, so a
 * batch reads and writes each key once, not once per detection.
 */
export class DetectionWindows {
  private readonly memory: WindowedKeys;
  private readonly namespace: string;
  private readonly windows: number[];

  constructor(
    views: readonly WindowView[],
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
    maxKeys: number,
  ) {
    if (!views.length) throw new Error('DetectionWindows needs at least one detection');
    this.windows = views.map((v) => v.windowMs);
    this.memory = new WindowedKeys(this.windows, track, cooldownMs, maxKeys);
    // Named by the detections sharing it, in order: another set of detections (a changed
    // AUTHWATCH_DETECT) starts its windows afresh instead of misreading these.
    this.namespace = `${SOFT_STATE_PREFIX}detect.window.${views.map((v) => v.kind).join('+')}`;
  }

  /** Runs one batch: `keys` are the keys it will add to, `fn` goes through its events. */
  async batch(ctx: ProcessContext, keys: Iterable<string>, fn: (windows: KeyWindows) => void): Promise<void> {
    if (!isSharedTx(ctx.tx)) {
      fn(this.memory);
      this.memory.expire();
      return;
    }
    const shared = new SharedWindows(this.namespace, this.windows, this.track, this.cooldownMs);
    await shared.load(ctx.tx, keys);
    fn(shared);
    await shared.save(ctx.tx, ctx.now);
  }
}
