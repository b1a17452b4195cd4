// A Map that keeps at most `max` keys, dropping the least recently used: per-process detection
// state (windows, cooldowns) must not grow with the number of distinct users or IPs an attacker
// can invent.
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The value for key, created with make() when missing; marks key as recently used. */
  upsert(key: K, make: () => V): V {
    let value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
    } else {
      value = make();
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    }
    this.map.set(key, value);
    return value;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Drops least recently used entries from the front while stale(value) holds. */
  evictWhile(stale: (value: V) => boolean): void {
    for (const [key, value] of this.map) {
      if (!stale(value)) return;
      this.map.delete(key);
    }
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }
}
