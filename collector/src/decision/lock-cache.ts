// Locks in force, in memory, so a plain /v1/check never touches storage: filled from the store at
// start, then kept current from the committed lockout and unlock events (the pipeline calls
// onCommit right after each commit, before any client is answered). The store stays the truth;
// a restart rebuilds this. On PostgreSQL other replicas write locks too, so there the store's
// change notifications (or a store read) must keep it current: see docs/lockout.md.
import type { StoredEvent } from '../schema/stored-event';
import type { CoreStore, LockRow, LockScope } from '../store/store';
import { decide, type CheckAnswer } from './check';
import type { Subject } from '../schema/lock-keys';

interface CachedLock {
  id: number;
  scope: LockScope;
  user: string | null;
  ip: string | null;
  locked_until: number | null;
}

const pairKey = (user: string, ip: string) => `${user}\u001f${ip}`;

export class LockCache {
  private readonly byId = new Map<number, CachedLock>();
  private readonly index = new Map<string, Set<number>>();

  /** Loads every lock in force from the store. */
  static async load(store: CoreStore, now: number): Promise<LockCache> {
    const cache = new LockCache();
    for (const row of await store.listLockouts({ state: 'locked', now, limit: 1_000_000 })) cache.add(row);
    return cache;
  }

  get size(): number {
    return this.byId.size;
  }

  private indexKey(l: CachedLock): string | null {
    if (l.scope === 'user') return l.user === null ? null : `u:${l.user}`;
    if (l.scope === 'ip') return l.ip === null ? null : `i:${l.ip}`;
    return l.user === null || l.ip === null ? null : `ui:${pairKey(l.user, l.ip)}`;
  }

  add(l: CachedLock | LockRow): void {
    const entry: CachedLock = { id: l.id, scope: l.scope, user: l.user, ip: l.ip, locked_until: l.locked_until };
    const k = this.indexKey(entry);
    if (k === null) return;
    this.byId.set(entry.id, entry);
    let set = this.index.get(k);
    if (!set) this.index.set(k, (set = new Set()));
    set.add(entry.id);
  }

  remove(id: number): void {
    const l = this.byId.get(id);
    if (!l) return;
    this.byId.delete(id);
    const k = this.indexKey(l)!;
    const set = this.index.get(k);
    set?.delete(id);
    if (set && set.size === 0) this.index.delete(k);
  }

  /** The locks in force that apply to the subject (expired ones are dropped on the way). */
  locksFor(s: Subject, now: number): CachedLock[] {
    const keys: string[] = [];
    if (s.userKey !== null) keys.push(`u:${s.userKey}`);
    if (s.userKey !== null && s.ipKey !== null) keys.push(`ui:${pairKey(s.userKey, s.ipKey)}`);
    if (s.ipKey !== null) keys.push(`i:${s.ipKey}`);
    const out: CachedLock[] = [];
    for (const k of keys) {
      for (const id of this.index.get(k) ?? []) {
        const l = this.byId.get(id)!;
        if (l.locked_until !== null && l.locked_until <= now) this.remove(id);
        else out.push(l);
      }
    }
    return out;
  }

  decide(s: Subject, now: number): CheckAnswer {
    return decide(this.locksFor(s, now) as LockRow[], now);
  }

  /** Applies committed lockout / unlock events (their attributes carry the lock's id and keys). */
  apply(events: readonly StoredEvent[]): void {
    for (const e of events) {
      if (e.type !== 'lockout' && e.type !== 'unlock') continue;
      const a = e.attributes;
      const id = a?.lock_id;
      if (typeof id !== 'number') continue;
      if (e.type === 'unlock') {
        this.remove(id);
        continue;
      }
      const scope = a!.scope as LockScope;
      this.add({
        id,
        scope,
        user: scope === 'ip' ? null : typeof a!.user_key === 'string' ? a!.user_key : null,
        ip: typeof a!.ip === 'string' ? a!.ip : null,
        locked_until: a!.permanent === true ? null : typeof a!.locked_until === 'number' ? a!.locked_until : null,
      });
    }
  }
}

/** Where /v1/check reads the locks in force. */
export interface LockSource {
  decide(s: Subject, now: number): Promise<CheckAnswer>;
  /** Committed events, right after the commit (see Pipeline onCommit). */
  committed(events: readonly StoredEvent[]): void;
}

/** From memory: one writer (SQLite) sees every lock it makes. */
export function memoryLocks(cache: LockCache): LockSource {
  return { decide: async (s, now) => cache.decide(s, now), committed: (events) => cache.apply(events) };
}

/** From the store: several replicas write locks (PostgreSQL) and this one must see theirs. */
export function storeLocks(store: CoreStore): LockSource {
  return {
    decide: async (s, now) => decide(await store.activeLocks(s.userKey, s.ipKey, now), now),
    committed: () => undefined,
  };
}
