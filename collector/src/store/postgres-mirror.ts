// The per-replica lock mirror (docs/scale-out.md): a LISTEN connection that hears every
// replica's lock and policy changes (Notifications), and the locks in force kept in memory from
// them (LockMirror), so /v1/check answers without a query while the notifications flow; with
// the policy, both kept per replica by ReplicaMemory.
import pg from 'pg';
import type { Queryable } from './postgres-dialect';
import { pgParam } from './postgres-text';
import { activeLockAt } from './engine/records';
import { LOCK_CHANNEL, POLICY_CHANNEL, type LockChange } from './postgres-tx';
import type { LockRow, Policy } from './store';

/** The LISTEN connection: reconnects with backoff and reports the gap after a reconnect. */
export class Notifications {
  readonly ready: Promise<void>;
  /** LISTENing now: what is announced reaches this process. */
  connected = false;
  private client: pg.Client | null = null;
  private closed = false;
  private connectedOnce = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | null = null;
  private resolveReady!: () => void;

  constructor(
    private readonly url: string,
    private readonly on: { lock(c: LockChange): void; policy(): void; gap(): void },
  ) {
    this.ready = new Promise((r) => (this.resolveReady = r));
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    this.client = client;
    let failed = false;
    const lost = () => {
      if (failed) return;
      failed = true;
      this.connected = false;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.timer.unref();
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel === POLICY_CHANNEL) return this.on.policy();
      if (msg.channel !== LOCK_CHANNEL || !msg.payload) return;
      let change: LockChange;
      try {
        change = JSON.parse(msg.payload) as LockChange;
      } catch {
        change = { op: 'resync' };
      }
      if (change.op === 'resync') this.on.gap();
      this.on.lock(change);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${LOCK_CHANNEL}; LISTEN ${POLICY_CHANNEL}`);
    } catch {
      lost();
      return;
    }
    if (this.closed) {
      void client.end().catch(() => undefined);
      return;
    }
    this.retryMs = 100;
    this.connected = true;
    if (this.connectedOnce) {
      this.on.gap();
      this.on.lock({ op: 'resync' });
    }
    this.connectedOnce = true;
    this.resolveReady();
  }

  close(): void {
    this.closed = true;
    this.connected = false;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('end');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      void c.end().catch(() => undefined);
    }
  }
}

/** A lock in force: its row without the unlock columns (null while it is in force). */
export type MirroredLock = Omit<LockRow, 'unlocked_at' | 'unlocked_by'>;

/**
 * Every lock in force, in memory: loaded once the notifications flow, then kept current by them.
 * Answers only while that holds (null otherwise: read the database).
 */
export class LockMirror {
  private readonly byId = new Map<number, MirroredLock>();
  private readonly index = new Map<string, Set<number>>();
  private loaded = false;
  /** The load read the locks in force at this time; earlier `now`s are not answered from memory. */
  private loadedAt = Infinity;
  /** Changes announced while a load was running, applied over its result. */
  private buffered: LockChange[] | null = null;
  private loading: Promise<void> | null = null;
  /** Locks that ran out are dropped on lookup and, for keys nobody asks about, by a sweep. */
  private sweptAt = Date.now();

  constructor(
    private readonly notifications: Notifications,
    private readonly load: (now: number) => Promise<MirroredLock[]>,
  ) {
    void notifications.ready.then(() => this.reload());
  }

  /** Resolves once the locks are in memory (or a load failed: the database answers until the next). */
  whenLoaded(): Promise<void> {
    return this.loaded ? Promise.resolve() : this.notifications.ready.then(() => this.loading ?? undefined);
  }

  reload(): void {
    this.loaded = false;
    if (this.loading) {
      // A load is running: it may have read before the gap; load again after it.
      void this.loading.then(() => this.reload());
      return;
    }
    this.buffered = [];
    const at = Date.now();
    this.loading = this.load(at)
      .then((rows) => {
        this.loadedAt = at;
        this.byId.clear();
        this.index.clear();
        for (const r of rows) this.add(r);
        for (const c of this.buffered ?? []) this.applyNow(c);
        this.loaded = true;
      })
      .catch(() => {
        // The next gap or the next reconnect loads again; until then the database answers.
        this.loaded = false;
      })
      .finally(() => {
        this.buffered = null;
        this.loading = null;
      });
  }

  apply(c: LockChange): void {
    if (this.buffered) this.buffered.push(c);
    else this.applyNow(c);
  }

  private applyNow(c: LockChange): void {
    if (c.op === 'lock') this.add(c.lock);
    else if (c.op === 'unlock') for (const id of c.ids) this.remove(id);
  }

  private keyOf(l: MirroredLock): string | null {
    if (l.scope === 'user') return l.user === null ? null : `u\u0000${l.user}`;
    if (l.scope === 'ip') return l.ip === null ? null : `i\u0000${l.ip}`;
    return l.user === null || l.ip === null ? null : `ui\u0000${l.user}\u0000${l.ip}`;
  }

  private add(l: MirroredLock): void {
    const k = this.keyOf(l);
    if (k === null) return;
    this.sweep(Date.now());
    this.byId.set(l.id, { id: l.id, scope: l.scope, user: l.user, ip: l.ip, failures: l.failures, locked_at: l.locked_at, locked_until: l.locked_until, reason: l.reason });
    let set = this.index.get(k);
    if (!set) this.index.set(k, (set = new Set()));
    set.add(l.id);
  }

  private remove(id: number): void {
    const l = this.byId.get(id);
    if (!l) return;
    this.byId.delete(id);
    const k = this.keyOf(l)!;
    const set = this.index.get(k);
    set?.delete(id);
    if (set && set.size === 0) this.index.delete(k);
  }

  /** At most once a minute: forget locks whose time ran out (an attack's many address locks). */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [id, l] of this.byId) if (l.locked_until !== null && l.locked_until <= now) this.remove(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The locks in force for user/ip (as full rows, as the database would give them), or null. */
  locksFor(user: string | null, ip: string | null, now: number): LockRow[] | null {
    if (!this.loaded || !this.notifications.connected || now < this.loadedAt) return null;
    this.sweep(Date.now());
    const keys: string[] = [];
    if (user !== null) keys.push(`u\u0000${user}`);
    if (user !== null && ip !== null) keys.push(`ui\u0000${user}\u0000${ip}`);
    if (ip !== null) keys.push(`i\u0000${ip}`);
    const out: LockRow[] = [];
    for (const k of keys) {
      for (const id of this.index.get(k) ?? []) {
        const l = this.byId.get(id)!;
        if (l.locked_until !== null && l.locked_until <= now) continue;
        out.push({ ...l, unlocked_at: null, unlocked_by: null });
      }
    }
    return out.sort((a, b) => a.locked_at - b.locked_at || a.id - b.id);
  }
}

/**
 * What a replica keeps in memory between queries: the locks in force and the policy, current while
 * the notifications flow (its own commits count at once), and the lock-change listeners.
 */
export class ReplicaMemory {
  private notifications: Notifications | null = null;
  private mirror: LockMirror | null = null;
  private readonly lockListeners = new Set<(c: LockChange) => void>();
  private policyCache: Policy | null = null;
  /** Bumped by every policy change seen: a read that overlapped one is not cached. */
  private policyGen = 0;

  constructor(
    private readonly url: string,
    private readonly db: Queryable,
  ) {}

  /** A write committed on this replica: its changes count here before its notification comes back. */
  committed(lockChanges: readonly LockChange[], policyChanged: boolean): void {
    for (const change of lockChanges) this.mirror?.apply(change);
    if (policyChanged) this.policyChanged();
  }

  private policyChanged(): void {
    this.policyCache = null;
    this.policyGen++;
  }

  /** The LISTEN connection (started on first use): lock and policy changes from every replica. */
  private listen(): Notifications {
    this.notifications ??= new Notifications(this.url, {
      lock: (change) => {
        this.mirror?.apply(change);
        for (const l of this.lockListeners) {
          try {
            l(change);
          } catch {
            // One listener's failure must not stop the others.
          }
        }
      },
      policy: () => this.policyChanged(),
      // Whatever was announced while nobody listened is unknown: start again from the database.
      gap: () => {
        this.policyChanged();
        this.mirror?.reload();
      },
    });
    return this.notifications;
  }

  onLockChange(listener: (c: LockChange) => void): { ready: Promise<void>; close(): void } {
    this.lockListeners.add(listener);
    return { ready: this.listen().ready, close: () => void this.lockListeners.delete(listener) };
  }

  /** From memory while the change notifications flow; read (and remembered) otherwise. */
  async policy(read: () => Promise<Policy>): Promise<Policy> {
    const n = this.listen();
    if (this.policyCache && n.connected) return { ...this.policyCache };
    const gen = this.policyGen;
    const p = await read();
    if (n.connected && gen === this.policyGen) this.policyCache = p;
    return { ...p };
  }

  private lockMirror(): LockMirror {
    this.mirror ??= new LockMirror(this.listen(), async (at) =>
      (await this.db.query(`SELECT id, scope, "user", ip, failures, locked_at, locked_until, reason FROM lockouts WHERE ${activeLockAt('$1')}`, [at])).rows as MirroredLock[],
    );
    return this.mirror;
  }

  /**
   * Listens, loads the locks in force and the policy now, so that a replica's first checks are
   * answered from memory: started lazily, the first burst of checks each read the database (10
   * pooled connections) and held their client connections for hundreds of ms.
   */
  async warm(policy: () => Promise<Policy>, timeoutMs: number): Promise<void> {
    const mirror = this.lockMirror();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    const done = Promise.all([mirror.whenLoaded(), this.listen().ready.then(() => this.policy(policy))]).then(() => undefined);
    try {
      await Promise.race([done.catch(() => undefined), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The locks in force for user/ip from the mirror, or null: read the database. */
  locksFor(user: string | null, ip: string | null, now: number): LockRow[] | null {
    return this.lockMirror().locksFor(user === null ? null : (pgParam(user) as string), ip === null ? null : (pgParam(ip) as string), now);
  }

  close(): void {
    this.notifications?.close();
    this.notifications = null;
    this.lockListeners.clear();
  }
}
