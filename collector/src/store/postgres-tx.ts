// The PostgreSQL write transaction, batch-shaped. The processors call it once per event (is this
// user locked? count this failure, open this session…); answering each call with a round trip
// made ingest cost thousands of round trips per 1,000-event batch. Instead, once a batch's events
// are inserted, one statement fetches everything the processors will ask about the batch's keys
// (failure times in the window, locks, lock counts, open reservations, the attempts being settled,
// sessions), the calls are answered from that, and their writes are buffered and written in one
// statement before a savepoint, before any other query and at commit.
//
// This is exact because the transaction holds the per-key locks of those keys (postgres-locks.ts):
// no other writer, on any replica, can change them until COMMIT. Only keys the locks cover are
// cached; anything else is read and written directly, after taking its lock. Locks are taken
// lazily, after the events are inserted, so two replicas insert their batches in parallel.
import type pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { counterKeys, keyRules, subjectOf } from '../schema/lock-keys';
import type { StoredEvent } from '../schema/stored-event';
import { pgJson, pgParam } from './postgres-text';
import {
  HeldLocks,
  STRIPE_CLASS,
  counterLockNames,
  ipLockName,
  sessionLockName,
  stripeOf,
  userLockName,
  type LockPlan,
} from './postgres-locks';
import { byCreation, EVENT_COLUMNS, rowToLock, rowToReservation, rowToSession, type EventColumn, type Row } from './rows';
import { SOFT_STATE_PREFIX, markShared, type WindowLog, type WindowLogRange, type WindowLogRow, type WindowLogWrite } from './shared-state';
import type { CoreWriteTx, KeyPrefetch, LockRow, LockScope, NewLock, Policy, Reservation, ReservationKeys, SessionRow } from './store';
import { storedPolicy } from '../schema/policy';
import { activeLockAt, activeLocks as activeLocksPlan } from './engine/records';
import { runAsync } from './engine/plan';
import { numbered } from './postgres-dialect';

/** Channel of the lock-change notifications (postgres.ts listens). */
export const LOCK_CHANNEL = 'authwatch_locks';
/** Channel on which a policy change is announced (payload empty). */
export const POLICY_CHANNEL = 'authwatch_policy';

/** A lock made or lifted on any replica, as announced on commit. */
export type LockChange =
  | { op: 'lock'; lock: NewLock & { id: number } }
  | { op: 'unlock'; ids: number[] }
  /** Notifications may have been missed (the listening connection was re-established): reload. */
  | { op: 'resync' };
/** Cached lock rows and failure times reach this far back beyond the window (clock differences). */
const SLACK_MS = 60_000;
/** State namespace of the lockout ids drawn and not used (see nextLockId), one row per id. */
const LOCK_ID_POOL = 'store:lockout_ids';
/** Prunes of counters and reservations run at most this often per process (see pruneAtCommit). */
const PRUNE_EVERY_MS = 10_000;

const EVENT_COLUMN_TYPES: Record<EventColumn, string> = {
  id: 'text', time: 'bigint', received_at: 'bigint', type: 'text', outcome: 'text', reason: 'text', user: 'text', user_id: 'text',
  email: 'text', session_id: 'text', ip: 'text', user_agent: 'text', device: 'text', app_version: 'text', service: 'text', entry: 'text',
  attributes: 'jsonb', actor: 'text', country: 'text', city: 'text', latitude: 'float8', longitude: 'float8', asn: 'integer', isp: 'text',
  browser: 'text', browser_version: 'text', os: 'text', os_version: 'text', device_type: 'text',
};
const COLS = EVENT_COLUMNS.map((c) => `"${c}"`).join(', ');
const floorTo = (ms: number) => `("time" - ((("time" % ${ms}) + ${ms}) % ${ms}))`;
const rollup = (name: string, table: string, ms: number) => `${name} AS (
    INSERT INTO ${table} AS t (bucket, type, outcome, reason, service, country, shard, count)
    SELECT ${floorTo(ms)}, type, coalesce(outcome, ''), coalesce(reason, ''), coalesce(service, ''), coalesce(country, ''), pg_backend_pid(), count(*)
    FROM ins GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (bucket, type, outcome, reason, service, country, shard) DO UPDATE SET count = t.count + excluded.count)`;
/** Column i of a row of the JSON parameter, as its SQL type (a JSON null is NULL). */
const jsonColumn = (c: EventColumn, i: number): string => {
  const t = EVENT_COLUMN_TYPES[c];
  if (t === 'jsonb') return `nullif(r->${i}, 'null'::jsonb) AS "${c}"`;
  return t === 'text' ? `r->>${i} AS "${c}"` : `(r->>${i})::${t} AS "${c}"`;
};
// One statement per batch: ids claimed in event_ids, the claimed rows inserted (routed to their
// day's partition), and the rollups counted from what was inserted.
// The batch arrives as one JSON parameter, an array of rows in EVENT_COLUMNS order, one row per
// id, sorted by id (see insertEvents). JSON because the driver's text encoding of 30 typed arrays
// took 37–92 ms of the event loop per 2,000 events here, JSON.stringify 4–10 ms (2026-11-27).
export const INSERT_EVENTS = `WITH input AS (
    SELECT ${EVENT_COLUMNS.map(jsonColumn).join(', ')}
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(r, n) ORDER BY n
  ), fresh AS (
    INSERT INTO event_ids (id, "time") SELECT id, "time" FROM input ON CONFLICT (id) DO NOTHING RETURNING id
  ), ins AS (
    INSERT INTO events (${COLS}) SELECT ${EVENT_COLUMNS.map((c) => `i."${c}"`).join(', ')} FROM input i JOIN fresh USING (id)
    RETURNING "time", type, outcome, reason, service, country
  ), ${rollup('minutes', 'event_counts', 60_000)}, ${rollup('hours', 'event_counts_hour', 3_600_000)}
  SELECT id FROM fresh`;

/** A batch's rows as the JSON parameter of INSERT_EVENTS (U+0000 replaced, as pgParam does). */
function eventRows(batch: readonly StoredEvent[]): string {
  return pgJson(batch.map((e) => EVENT_COLUMNS.map((c) => e[c] ?? null)));
}

/** State rows by (namespace, key): soft ones by the arrays $n, $n+1, logged ones by $n+2, $n+3. */
const STATE_FETCH = (n: number) => `SELECT namespace, key, value, expires_at FROM state_soft WHERE (namespace, key) IN (SELECT * FROM unnest($${n}::text[], $${n + 1}::text[]))
       UNION ALL
       SELECT namespace, key, value::text, expires_at FROM state WHERE (namespace, key) IN (SELECT * FROM unnest($${n + 2}::text[], $${n + 3}::text[]))`;

/** Draws $n lockout ids: the lowest in the pool no one else is taking, then the sequence (see nextLockId). */
const DRAW_LOCK_IDS = (n: number) => `pooled AS (
    DELETE FROM state WHERE namespace = '${LOCK_ID_POOL}' AND key IN (
      SELECT key FROM state WHERE namespace = '${LOCK_ID_POOL}' ORDER BY key::bigint LIMIT $${n} FOR UPDATE SKIP LOCKED)
    RETURNING key::bigint AS id
  ), drawn AS (
    SELECT id FROM pooled
    UNION ALL
    SELECT nextval(pg_get_serial_sequence('lockouts', 'id')) FROM generate_series(1, $${n} - (SELECT count(*) FROM pooled)::integer)
  )`;

// Also draws the lock ids the batch's failures may need ($9; usually 0 or a few).
const PREFETCH = `WITH ${DRAW_LOCK_IDS(9)}
SELECT
  (SELECT coalesce(json_agg(id), '[]'::json) FROM drawn) AS lock_ids,
  (SELECT coalesce(json_agg(json_build_array(key, "time")), '[]'::json) FROM failures WHERE key = ANY($1::text[]) AND "time" > $2) AS failures,
  (SELECT coalesce(json_agg(l), '[]'::json) FROM lockouts l
     WHERE unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > $3) AND ("user" = ANY($4::text[]) OR ip = ANY($5::text[]))) AS locks,
  (SELECT coalesce(json_agg(json_build_array(scope, u, i, n)), '[]'::json) FROM (
     SELECT scope, CASE WHEN scope = 'ip' THEN NULL ELSE "user" END AS u, CASE WHEN scope = 'user' THEN NULL ELSE ip END AS i, count(*) AS n
     FROM lockouts WHERE "user" = ANY($4::text[]) OR ip = ANY($5::text[]) GROUP BY 1, 2, 3) c) AS lock_counts,
  (SELECT coalesce(json_agg(json_build_array(id, "user", ip, expires_at)), '[]'::json) FROM reservations
     WHERE NOT expired AND ("user" = ANY($4::text[]) OR ip = ANY($5::text[]))) AS open_reservations,
  (SELECT coalesce(json_agg(r), '[]'::json) FROM (SELECT * FROM reservations WHERE id = ANY($6::text[]) ORDER BY id FOR UPDATE) r) AS attempts,
  (SELECT coalesce(json_agg(s), '[]'::json) FROM sessions s WHERE id = ANY($7::text[]) OR ("user" = ANY($8::text[]) AND ended_at IS NULL)) AS sessions`;

/** PREFETCH and state rows ($10–$13, see STATE_FETCH) in the same snapshot. */
const PREFETCH_WITH_STATE = `${PREFETCH},
  (SELECT coalesce(json_agg(json_build_array(namespace, key, value, expires_at)), '[]'::json) FROM (${STATE_FETCH(10)}) st) AS state`;

const SESSION_COLUMNS = [
  ['id', 'text'], ['user', 'text'], ['user_id', 'text'], ['ip', 'text'], ['country', 'text'], ['city', 'text'], ['isp', 'text'], ['asn', 'integer'],
  ['browser', 'text'], ['os', 'text'], ['device', 'text'], ['device_type', 'text'], ['service', 'text'], ['started_at', 'bigint'],
  ['last_seen_at', 'bigint'], ['ended_at', 'bigint'], ['end_reason', 'text'],
] as const;

/** Text as PostgreSQL stores it (U+0000 → U+FFFD), so cache keys match what the database returns. */
const k = (s: string): string => pgParam(s) as string;
const nk = (s: string | null): string | null => (s === null ? null : k(s));

/** The keys of fetchKeys (cache keys, as PostgreSQL stores the text). */
interface FetchKeys {
  failureKeys: Set<string>;
  users: Set<string>;
  ips: Set<string>;
  attemptIds: Set<string>;
  sessionIds: Set<string>;
  sessionUsers: Set<string>;
}

interface FailureEntry {
  /** Complete for times after this (own additions included). */
  since: number;
  times: number[];
}
interface SessionEntry {
  row: SessionRow;
  inDb: boolean;
  dirty: boolean;
  /** Under this transaction's lock: may be changed in the cache. */
  covered: boolean;
}
interface StateEntry {
  /** JSON text, or null when there is no row. */
  json: string | null;
  expiresAt: number | null;
  dirty: boolean;
}

class Cache {
  failures = new Map<string, FailureEntry>();
  /** Cached lock rows are those in force at any time from this on. */
  locksFrom = -Infinity;
  lockUsers = new Set<string>();
  lockIps = new Set<string>();
  locks = new Map<number, LockRow>();
  lockCounts = new Map<string, number>();
  resvUsers = new Set<string>();
  resvIps = new Set<string>();
  openResv = new Map<string, { user: string | null; ip: string | null; expiresAt: number }>();
  /** Reservations named by the batch's attempt_ids (row-locked); null = none. */
  attempts = new Map<string, Reservation | null>();
  sessions = new Map<string, SessionEntry | null>();
  /** Users whose active sessions are all in `sessions`. */
  sessionUsers = new Set<string>();
  state = new Map<string, StateEntry>();
  /** "namespace\0users|ips" → how many of those candidates were fetched. */
  stateFetched = new Map<string, number>();
}

class Pending {
  /** Counter key → times added since the last flush. */
  failureAdds = new Map<string, number[]>();
  failureClears = new Set<string>();
  resvInserts = new Map<string, Omit<Reservation, 'expired'>>();
  resvDeletes = new Set<string>();
  sessions = new Set<string>();
  state = new Set<string>();
  /** Locks made (their ids drawn from the sequence), inserted and announced with the flush. */
  locks: LockRow[] = [];
  /** Detection-window log rows (soft state, as state_soft's rows). */
  windowLog: (WindowLogWrite & { namespace: string })[] = [];

  /** Only state and window-log rows: nothing the caches read back from the database. */
  get onlyState(): boolean {
    return !this.failureAdds.size && !this.failureClears.size && !this.resvInserts.size && !this.resvDeletes.size && !this.sessions.size && !this.locks.length;
  }

  get empty(): boolean {
    return this.onlyState && !this.state.size && !this.windowLog.length;
  }
}

/** What a savepoint restores of the writes buffered before it, should it roll back. */
interface PendingCopy {
  pending: Pending;
  sessions: [string, SessionEntry][];
  state: [string, StateEntry][];
}

const countKey = (scope: LockScope, user: string | null, ip: string | null) =>
  scope === 'user' ? `user\u0000${user}\u0000` : scope === 'ip' ? `ip\u0000\u0000${ip}` : `user_ip\u0000${user}\u0000${ip}`;

const stateKey = (ns: string, key: string) => `${ns}\u0000${k(key)}`;
const stateTable = (ns: string) => (ns.startsWith(SOFT_STATE_PREFIX) ? 'state_soft' : 'state');

/** What a store process remembers across its transactions. */
export interface TxMemory {
  /** When counters and reservations were last pruned. */
  lastPrune: number;
  /** State namespaces processors have asked for, and by which keys: fetched together for a batch. */
  stateNamespaces: Map<string, Set<'users' | 'ips'>>;
}

export class PgWriteTx implements CoreWriteTx, WindowLog {
  private savepoints: { name: string; real: boolean }[] = [];
  private locked: boolean;
  /** Key locks without stripes (LockKeys.keysOnly): reads come from prefetchKeys' one statement. */
  private readonly keysOnly: boolean;
  /** A keys-only transaction needed more than its plan: the store runs it again with stripes. */
  needsStripes = false;
  private held: HeldLocks;
  private policy: Policy | undefined;
  private cache = new Cache();
  private pending = new Pending();
  /** Fresh events of this transaction (what the caches are filled for). */
  private inserted: StoredEvent[] = [];
  private prefetched = 0;
  /** Keys processors may ask state for: the fresh logins' users and addresses, in arrival order. */
  private stateCandidates = { users: new Set<string>(), ips: new Set<string>() };
  /** attempt_ids of the fresh events (the lockout processor removes them from the events). */
  private attemptCandidates = new Set<string>();
  /** Lock ids drawn from the sequence and not used yet (drawn in growing chunks, see nextLockId). */
  private lockIds: number[] = [];
  private lockIdChunk = 1;
  private pruneFailuresBefore: number | null = null;
  private pruneReservationsBefore: number | null = null;
  /** Lock changes this transaction made (the store applies them to its mirror right after COMMIT). */
  lockChanges: LockChange[] = [];
  policyChanged = false;

  constructor(
    private readonly client: PoolClient,
    private readonly plan: LockPlan,
    private readonly memory: TxMemory,
  ) {
    this.held = new HeldLocks(plan);
    this.locked = plan.exclusive || (plan.stripes.length === 0 && plan.keys.length === 0);
    this.keysOnly = !plan.exclusive && !plan.coarse && plan.stripes.length === 0 && plan.keys.length > 0;
    markShared(this);
  }

  /** `name`: a fixed text sent on every batch, prepared once per connection (parsed and planned once). */
  private async q<R extends QueryResultRow = Row>(sql: string, params: unknown[] = [], name?: string): Promise<R[]> {
    return (await this.client.query<R>({ text: sql, values: params.map(pgParam), name })).rows;
  }

  /** A statement that changes rows: the savepoints around it must exist first. */
  private async w<R extends QueryResultRow = Row>(sql: string, params: unknown[] = [], name?: string): Promise<pg.QueryResult<R>> {
    await this.realiseSavepoints();
    return this.client.query<R>({ text: sql, values: params.map(pgParam), name });
  }

  /**
   * Savepoints are opened lazily: one whose code only reads and touches the caches (a detection
   * that updates its windows) costs no statement, and rolling it back restores the caches. Before
   * the first write inside, the pending SAVEPOINTs are sent, outermost first.
   */
  private async realiseSavepoints(): Promise<void> {
    for (const sp of this.savepoints) {
      if (sp.real) continue;
      await this.client.query(`SAVEPOINT ${sp.name}`);
      sp.real = true;
    }
  }

  // ---- locks ----------------------------------------------------------------------------------

  /** Takes the planned locks (once; again after a savepoint that took them was rolled back). */
  private async ensureLocked(): Promise<void> {
    if (this.locked) return;
    // The policy rides along (every batch reads it): it cannot change under this transaction,
    // which holds the write lock shared and a policy change takes it exclusively.
    const [r] = await this.q<{ policy: string | null }>(
      `SELECT authwatch_lock_keys($1, $2::integer[], $3, $4::bigint[])::text AS locked, (SELECT value FROM meta WHERE key = 'policy') AS policy`,
      [STRIPE_CLASS, this.plan.stripes, this.plan.coarse, this.plan.keys.map(String)],
      'aw_lock_keys',
    );
    this.locked = true;
    this.policy ??= storedPolicy(r.policy);
  }

  /** Makes sure these lock names are held, waiting for them when they are not planned. */
  private async cover(names: (string | null)[]): Promise<void> {
    await this.ensureLocked();
    for (const name of names) {
      if (name === null) continue;
      const id = this.held.idOf(name);
      if (this.held.covers(id)) continue;
      // Taking it and reading under it would mix snapshots, as any read outside the prefetch.
      this.readOutsidePrefetch();
      // Outside the plan (a caller named fewer keys than it touches): correct, and a wait cycle
      // this could close is broken by PostgreSQL's deadlock detector.
      await this.q('SELECT authwatch_lock_keys($1, $2::integer[], false, $3::bigint[])', [STRIPE_CLASS, [stripeOf(id)], [String(id)]]);
      this.held.add(id);
    }
  }

  /** A read the caches cannot answer: its own statement, a snapshot of its own. */
  private readOutsidePrefetch(): void {
    // Under key locks alone another snapshot may hold half of what the decision reads (a batch
    // committed between the two statements): refused, the check fails rather than guesses.
    if (this.keysOnly) {
      this.needsStripes = true;
      throw new Error('store: a keys-only transaction read outside its prefetch');
    }
  }

  /** Takes these names without waiting; false when another writer holds one of them. */
  private async tryCover(names: (string | null)[]): Promise<boolean> {
    await this.ensureLocked();
    for (const name of names) {
      if (name === null) continue;
      const id = this.held.idOf(name);
      if (this.held.covers(id)) continue;
      const [r] = await this.q<{ ok: boolean }>('SELECT authwatch_try_lock_key($1, $2, $3::bigint) AS ok', [STRIPE_CLASS, stripeOf(id), String(id)]);
      if (!r.ok) return false;
      this.held.add(id);
    }
    return true;
  }

  // ---- flushing -------------------------------------------------------------------------------

  /** Writes the buffered changes in one statement. */
  async flush(last = false): Promise<void> {
    if (this.pending.empty && !(last && this.lockIds.length)) return;
    await this.ensureLocked();
    const f = this.takePending([], last);
    if (f.parts.length) await this.w(`WITH ${[...f.parts, ...(f.notify ? [f.notify] : [])].join(',\n')} ${f.notify ? 'SELECT n FROM notes' : 'SELECT 1'}`, f.params);
  }

  /**
   * The buffered changes as data-modifying CTEs (their parameters appended to `params`), taken out
   * of the buffer; `notify`, when locks were made, a CTE "notes AS (SELECT … pg_notify …)" that
   * the statement must read for the notifications to be sent.
   */
  private takePending(params: unknown[], last = false): { parts: string[]; params: unknown[]; notify: string | null } {
    const p = this.pending;
    const parts: string[] = [];
    const $ = (v: unknown) => (params.push(v), `$${params.length}`);
    if (last && this.lockIds.length) {
      // The transaction's last writes (usually): the lock ids it drew and did not use go back.
      parts.push(`id_back AS (INSERT INTO state (namespace, key, value) SELECT '${LOCK_ID_POOL}', unnest(${$(this.lockIds)}::bigint[])::text, 'true'::jsonb ON CONFLICT DO NOTHING)`);
      this.lockIds = [];
    }
    if (p.failureClears.size) parts.push(`f_clear AS (DELETE FROM failures WHERE key = ANY(${$([...p.failureClears])}::text[]))`);
    if (p.failureAdds.size) {
      const adds = [...p.failureAdds].flatMap(([key, times]) => times.map((t) => [key, t] as const));
      parts.push(`f_add AS (INSERT INTO failures (key, "time") SELECT * FROM unnest(${$(adds.map((a) => a[0]))}::text[], ${$(adds.map((a) => a[1]))}::bigint[]))`);
    }
    if (p.resvDeletes.size) parts.push(`r_take AS (DELETE FROM reservations WHERE id = ANY(${$([...p.resvDeletes])}::text[]))`);
    if (p.resvInserts.size) {
      const rs = [...p.resvInserts.values()];
      parts.push(
        `r_add AS (INSERT INTO reservations (id, "user", ip, display_user, display_ip, created_at, expires_at) SELECT * FROM unnest(${$(rs.map((r) => r.id))}::text[], ${$(rs.map((r) => r.user))}::text[], ${$(rs.map((r) => r.ip))}::text[], ${$(rs.map((r) => r.display_user))}::text[], ${$(rs.map((r) => r.display_ip))}::text[], ${$(rs.map((r) => r.created_at))}::bigint[], ${$(rs.map((r) => r.expires_at))}::bigint[]))`,
      );
    }
    const newSessions: SessionRow[] = [];
    const changedSessions: SessionRow[] = [];
    for (const id of p.sessions) {
      const e = this.cache.sessions.get(id);
      if (!e) continue;
      (e.inDb ? changedSessions : newSessions).push(e.row);
    }
    if (newSessions.length) {
      const cols = SESSION_COLUMNS.map(([c, t]) => `${$(newSessions.map((s) => s[c]))}::${t}[]`).join(', ');
      parts.push(`s_add AS (INSERT INTO sessions (${SESSION_COLUMNS.map(([c]) => `"${c}"`).join(', ')}) SELECT * FROM unnest(${cols}) ON CONFLICT (id) DO NOTHING)`);
    }
    if (changedSessions.length) {
      const col = (c: keyof SessionRow, t: string) => `${$(changedSessions.map((s) => s[c]))}::${t}[]`;
      // Merged, not overwritten: a row another writer ended stays ended.
      parts.push(`s_set AS (UPDATE sessions s SET
        last_seen_at = CASE WHEN s.ended_at IS NULL THEN greatest(s.last_seen_at, u.last_seen_at) ELSE s.last_seen_at END,
        ip = coalesce(s.ip, u.ip), service = coalesce(s.service, u.service),
        ended_at = coalesce(s.ended_at, u.ended_at),
        end_reason = CASE WHEN s.ended_at IS NULL THEN u.end_reason ELSE s.end_reason END
        FROM unnest(${col('id', 'text')}, ${col('last_seen_at', 'bigint')}, ${col('ip', 'text')}, ${col('service', 'text')}, ${col('ended_at', 'bigint')}, ${col('end_reason', 'text')})
          AS u(id, last_seen_at, ip, service, ended_at, end_reason)
        WHERE s.id = u.id)`);
    }
    let notify: string | null = null;
    if (p.locks.length) {
      const ls = p.locks;
      const col = (c: keyof LockRow, t: string) => `${$(ls.map((l) => l[c]))}::${t}[]`;
      parts.push(
        `lk_add AS (INSERT INTO lockouts (id, scope, "user", ip, failures, locked_at, locked_until, reason) SELECT * FROM unnest(${col('id', 'bigint')}, ${col('scope', 'text')}, ${col('user', 'text')}, ${col('ip', 'text')}, ${col('failures', 'integer')}, ${col('locked_at', 'bigint')}, ${col('locked_until', 'bigint')}, ${col('reason', 'text')}))`,
      );
      // Delivered at COMMIT, as each lock's own statement used to announce it.
      const bodies = ls.map((l) => {
        const body = JSON.stringify({ op: 'lock', lock: { id: l.id, scope: l.scope, user: l.user, ip: l.ip, failures: l.failures, locked_at: l.locked_at, locked_until: l.locked_until, reason: l.reason } });
        return Buffer.byteLength(body) > 7900 ? '{"op":"resync"}' : body;
      });
      notify = `notes AS (SELECT count(pg_notify(${$(LOCK_CHANNEL)}, b)) AS n FROM unnest(${$(bodies)}::text[]) AS b)`;
    }
    const logged: [string, string, string, number | null][] = [];
    const soft: [string, string, string, number | null][] = [];
    for (const sk of p.state) {
      const e = this.cache.state.get(sk);
      if (!e || e.json === null) continue;
      const sep = sk.indexOf('\u0000');
      const ns = sk.slice(0, sep);
      (stateTable(ns) === 'state' ? logged : soft).push([ns, sk.slice(sep + 1), e.json, e.expiresAt]);
    }
    for (const [name, table, rows, type] of [['st_logged', 'state', logged, 'jsonb'], ['st_soft', 'state_soft', soft, 'text']] as const) {
      if (!rows.length) continue;
      // One JSON parameter (as INSERT_EVENTS): the driver's array encoding escaped every quote of
      // every window's JSON on the event loop.
      parts.push(`${name} AS (INSERT INTO ${table} (namespace, key, value, expires_at)
        SELECT r->>0, r->>1, (r->>2)::${type}, (r->>3)::bigint FROM jsonb_array_elements(${$(pgJson(rows))}::jsonb) AS x(r)
        ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at)`);
    }
    if (p.windowLog.length) {
      // A snapshot's key, or a new generation's first row: the key's rows before it go, and those
      // of other generations (rows this statement inserts are not seen by its DELETE; one left
      // behind is below the snapshot, never read, and swept once the key's head has expired).
      const drops = p.windowLog.filter((r) => r.snapshot || r.seq === 0).map((r) => [r.namespace, k(r.key), r.gen, r.seq]);
      if (drops.length) {
        parts.push(`wl_drop AS (DELETE FROM window_log w USING jsonb_array_elements(${$(pgJson(drops))}::jsonb) AS x(r)
          WHERE w.namespace = x.r->>0 AND w.key = x.r->>1 AND (w.gen <> (x.r->>2)::bigint OR w.seq < (x.r->>3)::integer))`);
      }
      const rows = p.windowLog.map((r) => [r.namespace, k(r.key), r.gen, r.seq, r.prev, r.data, r.expiresAt]);
      parts.push(`wl_add AS (INSERT INTO window_log (namespace, key, gen, seq, prev, data, expires_at)
        SELECT r->>0, r->>1, (r->>2)::bigint, (r->>3)::integer, (r->>4)::bigint, r->>5, (r->>6)::bigint FROM jsonb_array_elements(${$(pgJson(rows))}::jsonb) AS x(r)
        ON CONFLICT (namespace, key, gen, seq) DO UPDATE SET prev = excluded.prev, data = excluded.data, expires_at = excluded.expires_at)`);
    }
    this.pending = new Pending();
    for (const s of [...newSessions, ...changedSessions]) {
      const e = this.cache.sessions.get(s.id);
      if (e) {
        e.inDb = true;
        e.dirty = false;
      }
    }
    for (const sk of p.state) {
      const e = this.cache.state.get(sk);
      if (e) e.dirty = false;
    }
    return { parts, params, notify };
  }

  /**
   * Ends the transaction's work before COMMIT: the buffered writes, then (at most every few
   * seconds per process) the prunes. Pruning skips rows other writers have locked and runs last,
   * so a writer never waits while holding rows another one pruned (no wait cycle).
   */
  async finish(): Promise<void> {
    await this.flush(true);
    const now = Date.now();
    if (this.pruneFailuresBefore === null && this.pruneReservationsBefore === null) return;
    if (!this.plan.exclusive && now - this.memory.lastPrune < PRUNE_EVERY_MS) return;
    this.memory.lastPrune = now;
    if (this.pruneFailuresBefore !== null) {
      await this.q('DELETE FROM failures WHERE ctid = ANY(ARRAY(SELECT ctid FROM failures WHERE "time" < $1 LIMIT 20000 FOR UPDATE SKIP LOCKED))', [this.pruneFailuresBefore]);
    }
    if (this.pruneReservationsBefore !== null) {
      await this.q('DELETE FROM reservations WHERE ctid = ANY(ARRAY(SELECT ctid FROM reservations WHERE expired AND expires_at < $1 LIMIT 20000 FOR UPDATE SKIP LOCKED))', [
        this.pruneReservationsBefore,
      ]);
    }
  }

  // ---- prefetch -------------------------------------------------------------------------------

  /** Fills the caches for the events inserted since the last prefetch (one statement). */
  private async prefetch(): Promise<void> {
    // Every read and write of keyed data comes after the planned locks (inserting events is the
    // only thing a transaction does before them); every public method starts here or in cover().
    await this.ensureLocked();
    if (this.prefetched >= this.inserted.length) return;
    const events = this.inserted.slice(this.prefetched);
    this.prefetched = this.inserted.length;
    await this.ensureLocked();
    const policy = await this.getPolicy();
    const rules = keyRules(policy, false);
    const c = this.cache;
    const failureKeys = new Set<string>();
    const users = new Set<string>();
    const ips = new Set<string>();
    const sessionIds = new Set<string>();
    const attemptIds = new Set<string>();
    const sessionUsers = new Set<string>();
    const covered = (name: string) => this.held.coversName(name);
    for (const id of this.attemptCandidates) if (!c.attempts.has(id)) attemptIds.add(id);
    let failures = 0; // how many locks the batch may make (see nextLockId)
    for (const e of events) {
      if (e.session_id && !c.sessions.has(k(e.session_id)) && covered(sessionLockName(e.session_id))) sessionIds.add(k(e.session_id));
      if (e.type !== 'login' || !e.outcome) continue;
      if (e.outcome === 'failure') failures++;
      if (policy.single_session && e.outcome === 'success' && !c.sessionUsers.has(k(e.user)) && covered(this.held.userName(e.user))) sessionUsers.add(k(e.user));
      const s = subjectOf(e.user, e.ip, rules);
      const userOk = s.userKey !== null && covered(this.held.userName(s.userKey));
      const ipOk = s.ipKey !== null && covered(ipLockName(s.ipKey));
      if (userOk && !c.lockUsers.has(k(s.userKey!))) users.add(k(s.userKey!));
      if (ipOk && !c.lockIps.has(k(s.ipKey!))) ips.add(k(s.ipKey!));
      const ck = counterKeys(s);
      for (const key of [ck.user, ck.userIp, ck.ip]) {
        if (key === null || c.failures.has(k(key))) continue;
        const names = key === ck.user ? [this.held.userName(s.userKey!)] : key === ck.ip ? [ipLockName(s.ipKey!)] : counterLockNames(key);
        if (names.every(covered)) failureKeys.add(k(key));
      }
    }
    await this.fetchKeys(policy, { failureKeys, users, ips, attemptIds, sessionIds, sessionUsers }, failures);
  }

  /**
   * The keys a group of reservations will ask about (decision/check.ts), fetched in one statement
   * instead of a few per reservation. Only keys this transaction holds are cached. Under key locks
   * alone (keysOnly) a batch may commit changes to them meanwhile: the one statement sees it whole
   * or not at all, and the decision is made from that.
   */
  prefetchKeys = async (want: KeyPrefetch): Promise<void> => {
    await this.ensureLocked();
    const policy = await this.getPolicy();
    const c = this.cache;
    const covered = (name: string) => this.held.coversName(name);
    const users = new Set(want.users.filter((u) => !c.lockUsers.has(k(u)) && covered(this.held.userName(u))).map(k));
    const ips = new Set(want.ips.filter((i) => !c.lockIps.has(k(i)) && covered(ipLockName(i))).map(k));
    const failureKeys = new Set(want.counters.filter((key) => !c.failures.has(k(key)) && counterLockNames(key).every(covered)).map(k));
    const state = want.state.filter(([ns, key]) => !this.cache.state.has(stateKey(ns, key))).map(([ns, key]): [string, string] => [ns, k(key)]);
    await this.fetchKeys(policy, { failureKeys, users, ips, attemptIds: new Set(), sessionIds: new Set(), sessionUsers: new Set() }, 0, state);
  };

  /**
   * One PREFETCH statement for these keys (and `state` rows); fills the caches. `failures`: how
   * many locks the batch may make.
   */
  private async fetchKeys(policy: Policy, keys: FetchKeys, failures: number, state: [string, string][] = []): Promise<void> {
    const { failureKeys, users, ips, attemptIds, sessionIds, sessionUsers } = keys;
    const c = this.cache;
    const covered = (name: string) => this.held.coversName(name);
    if (!failureKeys.size && !users.size && !ips.size && !sessionIds.size && !attemptIds.size && !sessionUsers.size && !state.length) return;
    await this.flush();
    const now = Date.now();
    const since = now - SLACK_MS - policy.window_seconds * 1000;
    const locksFrom = now - SLACK_MS;
    // And, for a big batch, lock ids for a quarter of its failures (the rest, if needed, in
    // doubling chunks). A small one draws when it locks, as many as it may need.
    const want = Math.min(256, Math.ceil(failures / 4));
    const draw = this.lockIds.length || want < 4 ? 0 : want;
    if (!draw) this.lockIdChunk = Math.max(1, want);
    const [r] = (
      await this.w<{
        failures: [string, number][];
        locks: Row[];
        lock_counts: [LockScope, string | null, string | null, number][];
        open_reservations: [string, string | null, string | null, number][];
        attempts: Row[];
        sessions: Row[];
        lock_ids: number[];
        state?: [string, string, string, number | null][];
      }>(state.length ? PREFETCH_WITH_STATE : PREFETCH, [
        [...failureKeys],
        since,
        locksFrom,
        [...users],
        [...ips],
        [...attemptIds],
        [...sessionIds],
        [...sessionUsers],
        draw,
        ...(state.length ? stateParams(state) : []),
      ])
    ).rows;
    if (r.state) this.fillState(state, r.state);
    if (r.lock_ids.length) {
      this.lockIds = r.lock_ids.map(Number).sort((a, b) => a - b);
      this.lockIdChunk = Math.max(this.lockIdChunk, 2 * r.lock_ids.length);
    }
    for (const key of failureKeys) c.failures.set(key, { since, times: [] });
    for (const [key, t] of r.failures) c.failures.get(key)?.times.push(t);
    c.locksFrom = Math.max(c.locksFrom, locksFrom);
    for (const u of users) c.lockUsers.add(u);
    for (const i of ips) c.lockIps.add(i);
    for (const row of r.locks) c.locks.set(row.id as number, rowToLock(row));
    for (const [scope, u, i, n] of r.lock_counts) c.lockCounts.set(countKey(scope, u, i), n);
    for (const u of users) c.resvUsers.add(u);
    for (const i of ips) c.resvIps.add(i);
    for (const [id, u, i, exp] of r.open_reservations) c.openResv.set(id, { user: u, ip: i, expiresAt: Number(exp) });
    for (const id of attemptIds) c.attempts.set(id, null);
    for (const row of r.attempts) c.attempts.set(row.id as string, rowToReservation(row));
    for (const id of sessionIds) c.sessions.set(id, null);
    for (const row of r.sessions) {
      const s = rowToSession(row);
      if (c.sessions.get(s.id)) continue; // ours is newer
      c.sessions.set(s.id, { row: s, inDb: true, dirty: false, covered: covered(sessionLockName(s.id)) });
    }
    for (const u of sessionUsers) c.sessionUsers.add(u);
  }

  /**
   * Fetches the batch's keys in `ns` and in every namespace asked for before (the detections and
   * profiles of the next processors), both tables, in one statement. A namespace is fetched for
   * the kinds of keys it was asked for (users, addresses).
   */
  private async prefetchState(ns: string, kind: 'users' | 'ips'): Promise<void> {
    const kinds = this.memory.stateNamespaces.get(ns) ?? new Set<'users' | 'ips'>();
    kinds.add(kind);
    this.memory.stateNamespaces.set(ns, kinds);
    const wanted = this.stateWanted();
    if (!wanted.length) return;
    await this.ensureLocked();
    const rows = await this.q<{ namespace: string; key: string; value: string; expires_at: number | null }>(STATE_FETCH(1), stateParams(wanted));
    this.fillState(wanted, rows.map((r) => [r.namespace, r.key, r.value, r.expires_at]));
  }

  /** The (namespace, key) pairs of the batch's candidates not fetched yet, marked as fetched. */
  private stateWanted(): [string, string][] {
    const wanted: [string, string][] = [];
    for (const [space, spaceKinds] of this.memory.stateNamespaces) {
      for (const kd of spaceKinds) {
        const done = this.cache.stateFetched.get(`${space}\u0000${kd}`) ?? 0;
        const candidates = this.stateCandidates[kd];
        if (done >= candidates.size) continue;
        const keys = [...candidates];
        this.cache.stateFetched.set(`${space}\u0000${kd}`, keys.length);
        for (let i = done; i < keys.length; i++) if (!this.cache.state.has(`${space}\u0000${keys[i]}`)) wanted.push([space, keys[i]]);
      }
    }
    return wanted;
  }

  private fillState(wanted: [string, string][], rows: [string, string, string, number | null][]): void {
    for (const [space, key] of wanted) this.cache.state.set(`${space}\u0000${key}`, { json: null, expiresAt: null, dirty: false });
    for (const [space, key, value, expiresAt] of rows) this.cache.state.set(`${space}\u0000${key}`, { json: value, expiresAt, dirty: false });
  }

  // ---- CoreWriteTx ----------------------------------------------------------------------------

  getState = async <T>(namespace: string, key: string): Promise<T | undefined> => {
    const sk = stateKey(namespace, key);
    if (!this.cache.state.has(sk)) {
      const kind = this.stateCandidates.users.has(k(key)) ? 'users' : this.stateCandidates.ips.has(k(key)) ? 'ips' : null;
      if (kind) await this.prefetchState(namespace, kind);
    }
    let e = this.cache.state.get(sk);
    if (!e) {
      this.readOutsidePrefetch();
      await this.ensureLocked();
      await this.flush();
      const table = stateTable(namespace);
      const rows = await this.q<{ value: string; expires_at: number | null }>(
        `SELECT ${table === 'state' ? 'value::text' : 'value'} AS value, expires_at FROM ${table} WHERE namespace = $1 AND key = $2`,
        [namespace, key],
      );
      e = { json: rows.length ? rows[0].value : null, expiresAt: rows.length ? rows[0].expires_at : null, dirty: false };
      this.cache.state.set(sk, e);
    }
    if (e.json === null || (e.expiresAt !== null && e.expiresAt <= Date.now())) return undefined;
    // Parsed per read, as from the database: callers may change what they get.
    return JSON.parse(e.json) as T;
  };

  putState = async <T>(namespace: string, key: string, value: T, expiresAt: number | null): Promise<void> => {
    await this.ensureLocked();
    const sk = stateKey(namespace, key);
    const json = pgJson(value);
    const e = this.cache.state.get(sk);
    // Unchanged (what the row holds, or a write already buffered): nothing to write.
    if (e && e.json === json && e.expiresAt === expiresAt) return;
    this.cache.state.set(sk, { json, expiresAt, dirty: true });
    this.pending.state.add(sk);
  };

  pruneState = async (now: number): Promise<void> => {
    await this.ensureLocked();
    await this.flush();
    await this.w('DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= $1', [now]);
    await this.w('DELETE FROM state_soft WHERE expires_at IS NOT NULL AND expires_at <= $1', [now]);
    // A row's own expiry is its batch's; its key's head, rewritten by later batches, may live on
    // and still need it: the rows go once the head has expired too (or is gone).
    await this.w(
      `DELETE FROM window_log w WHERE w.expires_at <= $1
         AND NOT EXISTS (SELECT 1 FROM state_soft h WHERE h.namespace = w.namespace AND h.key = w.key AND h.expires_at > $1)`,
      [now],
    );
  };

  // ---- WindowLog (processors/detections/shared-windows.ts) ------------------------------------

  readWindowLog = async (namespace: string, ranges: readonly WindowLogRange[]): Promise<WindowLogRow[]> => {
    if (!ranges.length) return [];
    this.readOutsidePrefetch();
    await this.ensureLocked();
    // Rows still buffered (a rolled-back savepoint's caller reading its key again) go first.
    if (this.pending.windowLog.length) await this.flush();
    const wanted = pgJson(ranges.map((r) => [k(r.key), r.gen, r.from, r.to]));
    const rows = await this.q<{ range: string; seq: number; prev: number; data: string }>(
      `SELECT x.i - 1 AS range, w.seq, w.prev::float8 AS prev, w.data
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(r, i)
         JOIN window_log w ON w.namespace = $1 AND w.key = x.r->>0 AND w.gen = (x.r->>1)::bigint AND w.seq >= (x.r->>2)::integer AND w.seq < (x.r->>3)::integer
        ORDER BY x.i, w.seq`,
      [namespace, wanted],
      'aw_window_log',
    );
    return rows.map((r) => ({ range: Number(r.range), seq: r.seq, prev: r.prev, data: r.data }));
  };

  appendWindowLog = async (namespace: string, rows: readonly WindowLogWrite[]): Promise<void> => {
    await this.ensureLocked();
    for (const r of rows) this.pending.windowLog.push({ ...r, namespace });
  };

  savepoint = async <T>(fn: () => Promise<T>): Promise<T> => {
    // In a batch each detection runs in a savepoint: a turn of the event loop before each, so
    // checks are answered between them instead of after the whole batch's processing.
    if (this.inserted.length) await new Promise<void>((resolve) => setImmediate(resolve));
    // Nothing buffered is written here (between two detections that would be a statement each):
    // a copy is kept, and should fn fail it is buffered again and written after the rollback.
    const before = this.copyPending();
    const sp = { name: `sp${this.savepoints.length + 1}`, real: false };
    this.savepoints.push(sp);
    let popped = false;
    const mark = {
      lockChanges: this.lockChanges.length,
      policyChanged: this.policyChanged,
      locked: this.locked,
      extras: this.held.extras(),
      inserted: this.inserted.length,
      candidates: { users: new Set(this.stateCandidates.users), ips: new Set(this.stateCandidates.ips) },
      attempts: new Set(this.attemptCandidates),
      lockIds: [...this.lockIds],
    };
    try {
      const r = await fn();
      if (sp.real) await this.client.query(`RELEASE SAVEPOINT ${sp.name}`);
      return r;
    } catch (e) {
      if (sp.real) {
        await this.client.query(`ROLLBACK TO SAVEPOINT ${sp.name}`);
        await this.client.query(`RELEASE SAVEPOINT ${sp.name}`);
      }
      this.savepoints.pop();
      popped = true;
      // Locks taken inside the savepoint are gone, and so is everything it wrote: start the
      // caches again from the database.
      this.locked = mark.locked;
      this.held = new HeldLocks(this.plan, mark.extras);
      this.inserted.length = mark.inserted;
      this.prefetched = 0;
      this.stateCandidates = mark.candidates;
      this.attemptCandidates = mark.attempts;
      this.cache = new Cache();
      this.pending = before.pending;
      for (const [id, entry] of before.sessions) this.cache.sessions.set(id, entry);
      for (const [sk, entry] of before.state) this.cache.state.set(sk, entry);
      this.policy = undefined;
      this.lockChanges.length = mark.lockChanges;
      this.policyChanged = mark.policyChanged;
      // Drawn before: still this transaction's (drawn inside: back in the pool, or a gap).
      this.lockIds = mark.lockIds;
      // The caches refill from the database: what was buffered before must be there first
      // (state alone may wait: its cache entries are restored above).
      if (!this.pending.onlyState) await this.flush();
      throw e;
    } finally {
      if (!popped) this.savepoints.pop();
    }
  };

  /** The buffered writes and the cache entries they write, copied (see savepoint). */
  private copyPending(): PendingCopy {
    const p = this.pending;
    const c = new Pending();
    for (const [key, times] of p.failureAdds) c.failureAdds.set(key, [...times]);
    for (const key of p.failureClears) c.failureClears.add(key);
    for (const [id, r] of p.resvInserts) c.resvInserts.set(id, { ...r });
    for (const id of p.resvDeletes) c.resvDeletes.add(id);
    c.locks = p.locks.map((l) => ({ ...l }));
    c.windowLog = [...p.windowLog];
    const sessions: [string, SessionEntry][] = [];
    for (const id of p.sessions) {
      const e = this.cache.sessions.get(id);
      if (!e) continue;
      c.sessions.add(id);
      sessions.push([id, { ...e, row: { ...e.row } }]);
    }
    const state: [string, StateEntry][] = [];
    for (const sk of p.state) {
      const e = this.cache.state.get(sk);
      if (!e) continue;
      c.state.add(sk);
      state.push([sk, { ...e }]);
    }
    return { pending: c, sessions, state };
  }

  insertEvents = async (events: readonly StoredEvent[]): Promise<boolean[]> => {
    if (!events.length) return [];
    // The first occurrence of an id is the one inserted; sorted by id, so two writers whose
    // batches share ids wait for each other in the same order (never in a cycle).
    const firsts = new Map<string, StoredEvent>();
    for (const e of events) if (!firsts.has(k(e.id))) firsts.set(k(e.id), e);
    const batch = [...firsts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((x) => x[1]);
    const values: unknown[] = [eventRows(batch)];
    let rows: { id: string | null }[];
    const f = this.pending.empty && !this.lockIds.length ? null : (await this.ensureLocked(), this.takePending(values, true));
    if (!f?.parts.length) {
      rows = (await this.w<{ id: string }>(INSERT_EVENTS, values, 'aw_insert_events')).rows;
    } else {
      // Events stored after processing (lockout and detection events): the buffered writes go in
      // the same statement (usually the transaction's last before COMMIT).
      const notes = f.notify ? ` UNION ALL SELECT NULL FROM notes WHERE n < 0` : '';
      const sql = INSERT_EVENTS.replace(/\n  SELECT id FROM fresh$/, `, ${[...f.parts, ...(f.notify ? [f.notify] : [])].join(',\n')}\n  SELECT id FROM fresh${notes}`);
      rows = (await this.w<{ id: string | null }>(sql, f.params)).rows;
    }
    const stored = new Set(rows.map((r) => r.id).filter((id) => id !== null));
    const out = events.map((e) => stored.delete(k(e.id)));
    events.forEach((e, i) => {
      if (!out[i]) return;
      if ((e.type === 'login' && e.outcome) || e.session_id) this.inserted.push(e);
      if (e.attempt_id) this.attemptCandidates.add(k(e.attempt_id));
      if (e.type === 'login') {
        this.stateCandidates.users.add(k(e.user));
        if (e.ip) this.stateCandidates.ips.add(k(e.ip));
      }
    });
    return out;
  };

  getPolicy = async (): Promise<Policy> => {
    // Read with the locks when they are still to be taken (one statement for both).
    if (!this.policy && !this.locked) await this.ensureLocked();
    if (!this.policy) {
      const r = await this.q<{ value: string }>('SELECT value FROM meta WHERE key = $1', ['policy']);
      this.policy = storedPolicy(r.length ? r[0].value : null);
    }
    return { ...this.policy };
  };

  putPolicy = async (p: Policy): Promise<void> => {
    await this.ensureLocked();
    await this.flush();
    await this.w(
      `WITH w AS (INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value) SELECT pg_notify($3, '')::text AS notified`,
      ['policy', pgJson(p), POLICY_CHANNEL],
    );
    this.policy = { ...p };
    this.policyChanged = true;
  };

  getSession = async (id: string): Promise<SessionRow | undefined> => {
    await this.prefetch();
    const e = this.cache.sessions.get(k(id));
    if (e !== undefined) return e ? { ...e.row } : undefined;
    await this.flush();
    const row = (await this.q('SELECT * FROM sessions WHERE id = $1', [id])).map(rowToSession)[0];
    if (this.held.coversName(sessionLockName(id))) this.cache.sessions.set(k(id), row ? { row, inDb: true, dirty: false, covered: true } : null);
    return row ? { ...row } : undefined;
  };

  openSession = async (s: SessionRow): Promise<boolean> => {
    await this.prefetch();
    const id = k(s.id);
    const e = this.cache.sessions.get(id);
    if (e !== undefined && (e === null || e.covered)) {
      if (e) return false;
      const row = { ...s, id, user: k(s.user) };
      this.cache.sessions.set(id, { row, inDb: false, dirty: true, covered: true });
      this.pending.sessions.add(id);
      return true;
    }
    if (e) return false;
    await this.cover([sessionLockName(s.id)]);
    await this.flush();
    const r = await this.w(
      `INSERT INTO sessions (${SESSION_COLUMNS.map(([c]) => `"${c}"`).join(', ')}) VALUES (${SESSION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT (id) DO NOTHING`,
      SESSION_COLUMNS.map(([c]) => s[c]),
    );
    return r.rowCount === 1;
  };

  touchSession = async (id: string, time: number, ip: string | null, service: string | null): Promise<void> => {
    await this.prefetch();
    const e = this.cache.sessions.get(k(id));
    if (e !== undefined && (e === null || e.covered)) {
      if (!e || e.row.ended_at !== null) return;
      e.row.last_seen_at = Math.max(e.row.last_seen_at, time);
      e.row.ip ??= nk(ip);
      e.row.service ??= nk(service);
      e.dirty = true;
      this.pending.sessions.add(k(id));
      return;
    }
    await this.cover([sessionLockName(id)]);
    await this.flush();
    this.cache.sessions.delete(k(id));
    await this.w('UPDATE sessions SET last_seen_at = greatest(last_seen_at, $1), ip = coalesce(ip, $2), service = coalesce(service, $3) WHERE id = $4 AND ended_at IS NULL', [
      time,
      ip,
      service,
      id,
    ]);
  };

  endSession = async (id: string, time: number, reason: string): Promise<boolean> => {
    await this.prefetch();
    const e = this.cache.sessions.get(k(id));
    if (e !== undefined && (e === null || e.covered)) {
      if (!e || e.row.ended_at !== null) return false;
      e.row.ended_at = time;
      e.row.end_reason = k(reason);
      e.dirty = true;
      this.pending.sessions.add(k(id));
      return true;
    }
    // Not under our lock (another session of a user, or an admin action): one conditional
    // statement, exact whoever else ends it.
    await this.flush();
    const r = (await this.w('UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL RETURNING *', [time, reason, id])).rows;
    if (r.length) this.cache.sessions.set(k(id), { row: rowToSession(r[0]), inDb: true, dirty: false, covered: false });
    else this.cache.sessions.delete(k(id));
    return r.length === 1;
  };

  activeSessionsOfUser = async (user: string): Promise<SessionRow[]> => {
    await this.prefetch();
    const u = k(user);
    if (this.cache.sessionUsers.has(u)) {
      const out: SessionRow[] = [];
      for (const e of this.cache.sessions.values()) if (e && e.row.user === u && e.row.ended_at === null) out.push({ ...e.row });
      return out;
    }
    await this.flush();
    const rows = (await this.q('SELECT * FROM sessions WHERE "user" = $1 AND ended_at IS NULL', [user])).map(rowToSession);
    for (const row of rows) {
      if (this.cache.sessions.get(row.id)) continue;
      this.cache.sessions.set(row.id, { row: { ...row }, inDb: true, dirty: false, covered: this.held.coversName(sessionLockName(row.id)) });
    }
    if (this.held.coversName(userLockName(user))) this.cache.sessionUsers.add(u);
    return rows;
  };

  idleSessions = async (before: number, limit: number): Promise<SessionRow[]> => {
    await this.ensureLocked();
    await this.flush();
    return (await this.q('SELECT * FROM sessions WHERE ended_at IS NULL AND last_seen_at < $1 ORDER BY last_seen_at LIMIT $2', [before, limit])).map(rowToSession);
  };

  activeLocks = async (user: string | null, ip: string | null, now: number): Promise<LockRow[]> => {
    await this.prefetch();
    const c = this.cache;
    const u = nk(user);
    const i = nk(ip);
    if ((u === null || c.lockUsers.has(u)) && (i === null || c.lockIps.has(i)) && now >= c.locksFrom) {
      const out: LockRow[] = [];
      for (const l of c.locks.values()) {
        if (l.unlocked_at !== null || (l.locked_until !== null && l.locked_until <= now)) continue;
        const applies =
          (l.scope === 'user' && u !== null && l.user === u) ||
          (l.scope === 'user_ip' && u !== null && i !== null && l.user === u && l.ip === i) ||
          (l.scope === 'ip' && i !== null && l.ip === i);
        if (applies) out.push({ ...l });
      }
      return out.sort((a, b) => a.locked_at - b.locked_at || a.id - b.id);
    }
    this.readOutsidePrefetch();
    await this.cover([user === null ? null : userLockName(user), ip === null ? null : ipLockName(ip)]);
    await this.flush();
    return runAsync(activeLocksPlan(user, ip, now), (s) => this.q(numbered(s.sql), s.params));
  };

  /** Counts read as if the prune asked for had run (it runs at commit, see finish). */
  private countSince(since: number): number {
    return this.pruneFailuresBefore === null ? since : Math.max(since, this.pruneFailuresBefore - 1);
  }

  private cachedFailures(keys: readonly string[], since: number): FailureEntry[] | null {
    const out: FailureEntry[] = [];
    for (const key of keys) {
      const e = this.cache.failures.get(k(key));
      if (!e || e.since > since) return null;
      out.push(e);
    }
    return out;
  }

  countFailures = async (keys: readonly string[], windowStart: number): Promise<number[]> => {
    if (!keys.length) return [];
    const since = this.countSince(windowStart);
    await this.prefetch();
    const cached = this.cachedFailures(keys, since);
    if (cached) return cached.map((e) => e.times.filter((t) => t > since).length);
    this.readOutsidePrefetch();
    await this.cover(keys.flatMap(counterLockNames));
    await this.flush();
    const rows = await this.q<{ n: number }>(
      `SELECT (SELECT count(*) FROM failures f WHERE f.key = k.key AND f."time" > $2) AS n
       FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) ORDER BY k.ord`,
      [keys, since],
    );
    return rows.map((r) => r.n);
  };

  addFailure = async (keys: readonly string[], time: number, windowStart: number): Promise<number[]> => {
    if (!keys.length) return [];
    const since = this.countSince(windowStart);
    await this.prefetch();
    const cached = this.cachedFailures(keys, since);
    if (cached) {
      keys.forEach((key, j) => {
        cached[j].times.push(time);
        const pending = this.pending.failureAdds.get(k(key));
        if (pending) pending.push(time);
        else this.pending.failureAdds.set(k(key), [time]);
      });
      return cached.map((e) => e.times.filter((t) => t > since).length);
    }
    this.readOutsidePrefetch();
    await this.cover(keys.flatMap(counterLockNames));
    await this.flush();
    for (const key of keys) this.cache.failures.delete(k(key));
    // One round trip: the CTE's insert is not visible to the counts in the same statement, so
    // the new failure is added when it falls in the window.
    const { rows } = await this.w<{ n: number }>(
      `WITH ins AS (INSERT INTO failures (key, "time") SELECT k, $2 FROM unnest($1::text[]) AS k)
       SELECT (SELECT count(*) FROM failures f WHERE f.key = k.key AND f."time" > $3) + CASE WHEN $2::bigint > $3::bigint THEN 1 ELSE 0 END AS n
       FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) ORDER BY k.ord`,
      [keys, time, since],
    );
    return rows.map((r) => r.n);
  };

  clearFailures = async (keys: readonly string[]): Promise<void> => {
    if (!keys.length) return;
    await this.prefetch();
    await this.cover(keys.flatMap(counterLockNames));
    for (const key of new Set(keys.map(k))) {
      this.pending.failureAdds.delete(key);
      this.pending.failureClears.add(key);
      // Known exactly from here on: nothing before, plus what this transaction adds.
      this.cache.failures.set(key, { since: -Infinity, times: [] });
    }
  };

  pruneFailures = async (before: number): Promise<void> => {
    await this.ensureLocked();
    this.pruneFailuresBefore = Math.max(this.pruneFailuresBefore ?? -Infinity, before);
  };

  countLocks = async (scope: LockScope, user: string | null, ip: string | null): Promise<number> => {
    await this.prefetch();
    const c = this.cache;
    const u = nk(user);
    const i = nk(ip);
    const hit = scope === 'ip' ? i !== null && c.lockIps.has(i) : u !== null && c.lockUsers.has(u);
    if (hit) return c.lockCounts.get(countKey(scope, scope === 'ip' ? null : u, scope === 'user' ? null : i)) ?? 0;
    this.readOutsidePrefetch();
    await this.cover([user === null ? null : userLockName(user), ip === null ? null : ipLockName(ip)]);
    await this.flush();
    const r =
      scope === 'user'
        ? await this.q<{ n: number }>(`SELECT count(*) AS n FROM lockouts WHERE scope = 'user' AND "user" = $1`, [user])
        : scope === 'user_ip'
          ? await this.q<{ n: number }>(`SELECT count(*) AS n FROM lockouts WHERE scope = 'user_ip' AND "user" = $1 AND ip = $2`, [user, ip])
          : await this.q<{ n: number }>(`SELECT count(*) AS n FROM lockouts WHERE scope = 'ip' AND ip = $1`, [ip]);
    return r[0].n;
  };

  /**
   * A lockouts id. Drawn ahead, several per statement (a quarter of the batch's failures, then
   * doubling): the lowest ids other transactions left in the pool first (state rows no one
   * else is taking), then the sequence. What is left is put back into the pool with the
   * transaction's last writes (takePending), so ids stay dense and every id is used once.
   */
  private async nextLockId(): Promise<number> {
    if (!this.lockIds.length) {
      const n = this.lockIdChunk;
      const rows = (
        await this.w<{ id: number }>(`WITH ${DRAW_LOCK_IDS(1)} SELECT id FROM drawn`, [n], 'aw_lock_ids')
      ).rows;
      this.lockIds = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
      this.lockIdChunk = Math.min(n * 2, 1024);
    }
    return this.lockIds.shift()!;
  }

  insertLock = async (l: NewLock): Promise<LockRow> => {
    await this.prefetch();
    await this.cover([l.user === null ? null : userLockName(l.user), l.ip === null ? null : ipLockName(l.ip)]);
    // Buffered: inserted and announced (NOTIFY) with the next flush, in one statement with the
    // other writes. Every read of lockouts in this transaction flushes first.
    const lock: LockRow = {
      id: await this.nextLockId(),
      scope: l.scope,
      user: nk(l.user),
      ip: nk(l.ip),
      failures: l.failures,
      locked_at: l.locked_at,
      locked_until: l.locked_until,
      reason: k(l.reason),
      unlocked_at: null,
      unlocked_by: null,
    };
    this.pending.locks.push({ ...lock });
    const c = this.cache;
    if ((lock.user !== null && c.lockUsers.has(lock.user)) || (lock.ip !== null && c.lockIps.has(lock.ip))) c.locks.set(lock.id, lock);
    const ck = countKey(lock.scope, lock.scope === 'ip' ? null : lock.user, lock.scope === 'user' ? null : lock.ip);
    const counted = lock.scope === 'ip' ? lock.ip !== null && c.lockIps.has(lock.ip) : lock.user !== null && c.lockUsers.has(lock.user);
    if (counted) c.lockCounts.set(ck, (c.lockCounts.get(ck) ?? 0) + 1);
    const { unlocked_at: _a, unlocked_by: _b, ...announced } = lock;
    this.lockChanges.push({ op: 'lock', lock: announced });
    return { ...lock };
  };

  unlock = async (sel: { user?: string; ip?: string }, now: number, actor: string): Promise<LockRow[]> => {
    await this.prefetch();
    await this.cover([sel.user === undefined ? null : userLockName(sel.user), sel.ip === undefined ? null : ipLockName(sel.ip)]);
    await this.flush();
    const set = `UPDATE lockouts SET unlocked_at = $1, unlocked_by = $2 WHERE ${activeLockAt('$1')}`;
    let rows: Row[];
    if (sel.user !== undefined && sel.ip !== undefined) rows = (await this.w(`${set} AND "user" = $3 AND ip = $4 RETURNING *`, [now, actor, sel.user, sel.ip])).rows;
    else if (sel.user !== undefined) rows = (await this.w(`${set} AND "user" = $3 RETURNING *`, [now, actor, sel.user])).rows;
    else if (sel.ip !== undefined) rows = (await this.w(`${set} AND ip = $3 AND scope IN ('ip', 'user_ip') RETURNING *`, [now, actor, sel.ip])).rows;
    else rows = [];
    const lifted = rows.map(rowToLock);
    for (const l of lifted) this.cache.locks.delete(l.id);
    if (lifted.length) {
      const full = JSON.stringify({ op: 'unlock', ids: lifted.map((l) => l.id) });
      await this.w('SELECT pg_notify($1, $2)', [LOCK_CHANNEL, full.length > 7900 ? '{"op":"resync"}' : full]);
      this.lockChanges.push({ op: 'unlock', ids: lifted.map((l) => l.id) });
    }
    return lifted;
  };

  insertReservation = async (r: Omit<Reservation, 'expired'>): Promise<void> => {
    await this.prefetch();
    await this.cover([r.user === null ? null : userLockName(r.user), r.ip === null ? null : ipLockName(r.ip)]);
    const row = { ...r, id: k(r.id), user: nk(r.user), ip: nk(r.ip), display_user: nk(r.display_user), display_ip: nk(r.display_ip) };
    this.pending.resvInserts.set(row.id, row);
    this.cache.openResv.set(row.id, { user: row.user, ip: row.ip, expiresAt: row.expires_at });
  };

  countReservations = async (user: string | null, ip: string | null): Promise<{ user: number; user_ip: number; ip: number }> => {
    await this.prefetch();
    const c = this.cache;
    const u = nk(user);
    const i = nk(ip);
    if ((u === null || c.resvUsers.has(u)) && (i === null || c.resvIps.has(i))) {
      const n = { user: 0, user_ip: 0, ip: 0 };
      for (const r of c.openResv.values()) {
        if (u !== null && r.user === u) {
          n.user++;
          if (i !== null && r.ip === i) n.user_ip++;
        }
        if (i !== null && r.ip === i) n.ip++;
      }
      return n;
    }
    this.readOutsidePrefetch();
    await this.cover([user === null ? null : userLockName(user), ip === null ? null : ipLockName(ip)]);
    await this.flush();
    return (
      await this.q<{ user: number; user_ip: number; ip: number }>(
        `SELECT (SELECT count(*) FROM reservations WHERE NOT expired AND "user" = $1) AS "user",
                (SELECT count(*) FROM reservations WHERE NOT expired AND "user" = $1 AND ip = $2) AS user_ip,
                (SELECT count(*) FROM reservations WHERE NOT expired AND ip = $2) AS ip`,
        [user, ip],
      )
    )[0];
  };

  takeReservation = async (id: string): Promise<Reservation | undefined> => {
    await this.prefetch();
    const key = k(id);
    const c = this.cache;
    const own = this.pending.resvInserts.get(key);
    if (own) {
      this.pending.resvInserts.delete(key);
      c.openResv.delete(key);
      return { ...own, expired: false };
    }
    const cached = c.attempts.get(key);
    if (cached !== undefined) {
      if (!cached) return undefined;
      c.attempts.set(key, null);
      c.openResv.delete(key);
      this.pending.resvDeletes.add(key);
      return { ...cached };
    }
    await this.flush();
    const r = (await this.w('DELETE FROM reservations WHERE id = $1 RETURNING *', [id])).rows.map(rowToReservation)[0];
    c.openResv.delete(key);
    return r;
  };

  expireReservations = async (now: number, keys?: ReservationKeys): Promise<Reservation[]> => {
    // Under key locks alone the failures an expiry makes would be counted on keys a batch may be
    // counting too: left to the batches and the sweeper. The decision is the same: it counts a
    // lapsed reservation as open, as it would count it as a failure once expired.
    if (this.keysOnly) return [];
    await this.ensureLocked();
    // Only buffered reservation changes bear on what this reads and writes.
    if (this.pending.resvInserts.size || this.pending.resvDeletes.size) await this.flush();
    if (keys && !this.mayHaveLapsed(now, keys)) return [];
    // A check's keys: each arm on its partial index.
    const keyed = keys ? ` AND id IN (SELECT id FROM reservations WHERE NOT expired AND "user" = $2 UNION SELECT id FROM reservations WHERE NOT expired AND ip = $3)` : '';
    const keyParams = keys ? [keys.user, keys.ip] : [];
    // Rows another writer is settling are skipped (never waited for); it or the sweeper expires
    // them. A keyed writer expires only reservations whose keys it holds or can take now.
    if (this.plan.exclusive) {
      const all = (await this.w(`UPDATE reservations SET expired = true WHERE NOT expired AND expires_at <= $1${keyed} RETURNING *`, [now, ...keyParams])).rows.map(
        rowToReservation,
      );
      for (const r of all) this.cache.openResv.delete(r.id);
      return keys ? all.sort(byCreation) : all;
    }
    const candidates = await this.q<{ id: string; user: string | null; ip: string | null }>(
      `SELECT id, "user", ip FROM reservations WHERE NOT expired AND expires_at <= $1${keyed} ORDER BY id LIMIT 1000`,
      [now, ...keyParams],
    );
    if (!candidates.length) return [];
    const ids: string[] = [];
    for (const r of candidates) {
      if (await this.tryCover([r.user === null ? null : userLockName(r.user), r.ip === null ? null : ipLockName(r.ip)])) ids.push(r.id);
    }
    if (!ids.length) return [];
    const rows = (
      await this.w(
        'UPDATE reservations SET expired = true WHERE id IN (SELECT id FROM reservations WHERE id = ANY($1::text[]) AND NOT expired FOR UPDATE SKIP LOCKED) RETURNING *',
        [ids],
      )
    ).rows.map(rowToReservation);
    for (const r of rows) {
      this.cache.openResv.delete(r.id);
      if (this.cache.attempts.get(r.id)) this.cache.attempts.set(r.id, { ...r });
    }
    return keys ? rows.sort(byCreation) : rows;
  };

  /** false when the cache holds every open reservation of these keys and none has lapsed. */
  private mayHaveLapsed(now: number, keys: ReservationKeys): boolean {
    const c = this.cache;
    const u = nk(keys.user);
    const i = nk(keys.ip);
    if ((u !== null && !c.resvUsers.has(u)) || (i !== null && !c.resvIps.has(i))) return true;
    for (const r of c.openResv.values()) if (r.expiresAt <= now && ((u !== null && r.user === u) || (i !== null && r.ip === i))) return true;
    return false;
  }

  pruneReservations = async (before: number): Promise<void> => {
    await this.ensureLocked();
    this.pruneReservationsBefore = Math.max(this.pruneReservationsBefore ?? -Infinity, before);
  };
}

function stateParams(wanted: [string, string][]): string[][] {
  const soft = wanted.filter(([space]) => stateTable(space) === 'state_soft');
  const logged = wanted.filter(([space]) => stateTable(space) === 'state');
  return [soft.map((w) => w[0]), soft.map((w) => w[1]), logged.map((w) => w[0]), logged.map((w) => w[1])];
}


