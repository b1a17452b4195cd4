// Per-key sliding windows plus a per-key cooldown, for the windowed detections (brute force,
// spray, stuffing). A key's state is freed once it has been quiet for a whole window (its
// cooldown once the cooldown has passed), not only when the LRU cap is reached: an attacker who
// invents users or addresses, or plain traffic over weeks, must not grow memory to the cap.
import { AttemptWindow, type Attempt } from './attempt-window';
import { BoundedMap } from './bounded-map';

export class WindowedKeys {
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

  /** Adds the attempt to key's window and returns the window. */
  add(key: string, attempt: Attempt): AttemptWindow {
    if (attempt.t > this.newest) this.newest = attempt.t;
    const w = this.windows.upsert(key, () => new AttemptWindow(this.windowMs, this.track));
    w.add(attempt);
    return w;
  }

  /** true (and starts the cooldown) when key may fire at time t. */
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
