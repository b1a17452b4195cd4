// Per-key sliding windows plus a per-key cooldown, for the windowed detections (brute force,
// spray, stuffing). Two homes for them:
//  - memory (WindowedKeys), when this process is the only writer (SQLite): O(1) per event. A key's
//    state is freed once it has been quiet for a whole window (its cooldown once the cooldown has
//    passed), not only when the LRU cap is reached: an attacker who invents users or addresses, or
//    plain traffic over weeks, must not grow memory to the cap.
//  - the store's transaction state (SharedWindows), when several replicas write one PostgreSQL
//    database and each sees only its share of an attack: loaded for the batch's keys (the store
//    fetches them in one statement), updated, written back. The transaction holds the per-key lock
//    of every user and address in the batch, so two replicas never update one window at once and a
//    detection fires once whichever replica saw the events. Kept as soft state (UNLOGGED on
//    PostgreSQL): a database crash forgets at most one window of attempts and the cooldowns.
import type { ProcessContext } from '../../pipeline/contracts';
import { SOFT_STATE_PREFIX, isSharedTx } from '../../store/shared-state';
import type { WriteTx } from '../../store/store';
import { AttemptWindow, type Attempt, type SerializedWindow } from './attempt-window';
import { BoundedMap } from './bounded-map';

/** What a detection needs from its windows while it goes through a batch. */
export interface KeyWindows {
  /** Adds the attempt to key's window and returns the window. */
  add(key: string, attempt: Attempt): AttemptWindow;
  /** true (and starts the cooldown) when key may fire at time t. */
  mayFire(key: string, t: number): boolean;
}

export class WindowedKeys implements KeyWindows {
  private readonly windows: BoundedMap<string, AttemptWindow>;
  private readonly fired: BoundedMap<string, number>;
  /** Newest attempt time seen: the clock expiry runs on (event time, so replays behave the same). */
  private newest = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
    maxKeys: number,
  ) {
    this.windows = new BoundedMap(maxKeys);
    this.fired = new BoundedMap(maxKeys);
  }

  /** Keys with live state (windows, cooldowns). */
  get size(): { windows: number; cooldowns: number } {
    return { windows: this.windows.size, cooldowns: this.fired.size };
  }

  add(key: string, attempt: Attempt): AttemptWindow {
    if (attempt.t > this.newest) this.newest = attempt.t;
    const w = this.windows.upsert(key, () => new AttemptWindow(this.windowMs, this.track));
    w.add(attempt);
    return w;
  }

  mayFire(key: string, t: number): boolean {
    const prev = this.fired.get(key);
    if (prev !== undefined && Math.abs(t - prev) < this.cooldownMs) return false;
    this.fired.set(key, t);
    return true;
  }

  /**
   * Frees windows whose every attempt is out of the window and cooldowns that have passed, both
   * relative to the newest attempt seen. Least recently touched keys come first, so this stops at
   * the first key still live.
   */
  expire(): void {
    const windowCutoff = this.newest - this.windowMs;
    this.windows.evictWhile((w) => w.latestTime <= windowCutoff);
    const cooldownCutoff = this.newest - this.cooldownMs;
    this.fired.evictWhile((t) => t <= cooldownCutoff);
  }
}

/** A key's window and cooldown as kept in transaction state. */
interface SavedKey {
  w: SerializedWindow;
  /** Event time of the last detection for the key (the cooldown), or null. */
  f: number | null;
}

/** The windows of one batch's keys, read from and written back to transaction state. */
export class SharedWindows implements KeyWindows {
  private readonly keys = new Map<string, { w: AttemptWindow; fired: number | null; dirty: boolean }>();

  constructor(
    private readonly namespace: string,
    private readonly windowMs: number,
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
  ) {}

  async load(tx: WriteTx, keys: Iterable<string>): Promise<void> {
    for (const key of new Set(keys)) {
      if (this.keys.has(key)) continue;
      const saved = await tx.getState<SavedKey>(this.namespace, key);
      this.keys.set(key, {
        w: saved ? AttemptWindow.fromJSON(this.windowMs, this.track, saved.w) : new AttemptWindow(this.windowMs, this.track),
        fired: saved?.f ?? null,
        dirty: false,
      });
    }
  }

  private entry(key: string) {
    let e = this.keys.get(key);
    if (!e) {
      e = { w: new AttemptWindow(this.windowMs, this.track), fired: null, dirty: false };
      this.keys.set(key, e);
    }
    return e;
  }

  add(key: string, attempt: Attempt): AttemptWindow {
    const e = this.entry(key);
    e.w.add(attempt);
    e.dirty = true;
    return e.w;
  }

  mayFire(key: string, t: number): boolean {
    const e = this.entry(key);
    if (e.fired !== null && Math.abs(t - e.fired) < this.cooldownMs) return false;
    e.fired = t;
    e.dirty = true;
    return true;
  }

  /** Writes back the changed keys; the store drops a key quiet for a window and a cooldown. */
  async save(tx: WriteTx, now: number): Promise<void> {
    const expiresAt = now + Math.max(this.windowMs, this.cooldownMs);
    for (const [key, e] of this.keys) {
      if (e.dirty) await tx.putState<SavedKey>(this.namespace, key, { w: e.w.toJSON(), f: e.fired }, expiresAt);
    }
  }
}

/**
 * A windowed detection's windows: in memory, or in the transaction's state when the store is
 * shared by several replicas (asked per batch, so the same processor serves both stores).
 */
export class DetectionWindows {
  private readonly memory: WindowedKeys;
  private readonly namespace: string;

  constructor(
    kind: string,
    private readonly windowMs: number,
    private readonly track: { users: boolean; ips: boolean },
    private readonly cooldownMs: number,
    maxKeys: number,
  ) {
    this.memory = new WindowedKeys(windowMs, track, cooldownMs, maxKeys);
    this.namespace = `${SOFT_STATE_PREFIX}detect.window.${kind}`;
  }

  /** Runs one batch: `keys` are the keys it will add to, `fn` goes through its events. */
  async batch(ctx: ProcessContext, keys: Iterable<string>, fn: (windows: KeyWindows) => void): Promise<void> {
    if (!isSharedTx(ctx.tx)) {
      fn(this.memory);
      this.memory.expire();
      return;
    }
    const shared = new SharedWindows(this.namespace, this.windowMs, this.track, this.cooldownMs);
    await shared.load(ctx.tx, keys);
    fn(shared);
    await shared.save(ctx.tx, ctx.now);
  }
}
