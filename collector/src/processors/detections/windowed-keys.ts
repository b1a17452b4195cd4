// Per-key sliding windows plus a per-key cooldown, for the windowed detections (brute force,
// spray, stuffing). Two homes for them:
//  - memory (WindowedKeys), when this process is the only writer (SQLite): O(1) per event. A key's
//    state is freed once it has been quiet for a whole window (its cooldown once the cooldown has
//    passed), not only when the LRU cap is reached: an attacker who invents users or addresses, or
//    plain traffic over weeks, must not grow memory to the cap.
//  - the store (SharedWindows, shared-windows.ts), when several replicas write one PostgreSQL
//    database and each sees only its share of an attack: a log per key for all the detections
//    watching that key, of which a batch reads what other replicas added and writes what it
//    added. Kept as soft state (UNLOGGED on PostgreSQL): a database crash forgets at most one
//    window of attempts and the cooldowns.
import type { ProcessContext } from '../../pipeline/contracts';
import { SOFT_STATE_PREFIX, isSharedTx } from '../../store/shared-state';
import { AttemptWindow, type Attempt } from './attempt-window';
import { BoundedMap } from './bounded-map';
import { SharedWindows, WindowCache } from './shared-windows';

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
 * The windows of the windowed detections that watch one kind of key: in memory, or in the store
 * when it is shared by several replicas (asked per batch, so the same processor serves both
 * stores). Detections sharing a key share one log per key, so a batch reads and writes each key
 * once, not once per detection.
 */
export class DetectionWindows {
  private readonly memory: WindowedKeys;
  /** With a shared store: the windows this replica has seen (checked against the store's log before use). */
  private readonly seen: WindowCache;
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
    this.seen = new WindowCache(maxKeys, Math.max(...this.windows));
    // Named by the detections sharing it, in order: another set of detections (a changed
    // AUTHWATCH_DETECT) starts its windows afresh instead of misreading these. "log": the layout
    // (shared-windows.ts); replicas still writing whole windows ("window") keep their own rows
    // during an upgrade instead of failing on these.
    this.namespace = `${SOFT_STATE_PREFIX}detect.log.${views.map((v) => v.kind).join('+')}`;
  }

  /** Runs one batch: `keys` are the keys it will add to, `fn` goes through its events. */
  async batch(ctx: ProcessContext, keys: Iterable<string>, fn: (windows: KeyWindows) => void): Promise<void> {
    if (!isSharedTx(ctx.tx)) {
      fn(this.memory);
      this.memory.expire();
      return;
    }
    const shared = new SharedWindows(this.namespace, this.windows, this.track, this.cooldownMs, this.seen);
    await shared.load(ctx.tx, keys);
    fn(shared);
    await shared.save(ctx.tx, ctx.now);
  }
}
