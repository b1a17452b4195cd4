// Group commits on the SQLite worker store run whole in its writer thread (ingestGroup). This
// proves the collector takes that path by default, that it leaves exactly the stored state the
// in-process store leaves for the same input (events, locks, counters, reservations, sessions,
// detections), that a bad batch in a group is refused alone, and that the writer thread's logs
// reach the collector's log.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { keyRules, subjectOf } from '../src/schema/lock-keys';
import { reserveAttempt } from '../src/decision/check';
import { counterKeys } from '../src/schema/lock-keys';
import { createLogger, type Logger } from '../src/log';
import type { Processor, Sink } from '../src/pipeline/contracts';
import { createIngestProcessors, type IngestProcessorConfig } from '../src/pipeline/group-commit';
import { Pipeline, type IngestResult } from '../src/pipeline/runner';
import { parseDetectionConfig } from '../src/processors/detections/config';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { openStore, parseStoreConfig } from '../src/store/open';
import { SqliteStore } from '../src/store/sqlite';
import { SqliteWorkerStore } from '../src/store/sqlite-worker';
import type { CoreStore } from '../src/store/store';
import { tempDir } from './helpers/server';
import { rng } from './fixtures/detect-traffic';

const quiet = createLogger({ write: () => true } as unknown as Writable, 'silent');
const config: IngestProcessorConfig = { truncate: false, detections: parseDetectionConfig({}) };

/** A logger that keeps what it is told. */
function recordingLog(): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Processors the pipeline must not call when the store runs the group itself. */
function tripwire(calls: { n: number }): Processor {
  return { name: 'tripwire', process: async () => void calls.n++ };
}

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('the collector opens SQLite with the processors in the writer thread by default, and not with AUTHWATCH_SQLITE_WORKER=0', async () => {
  const url = `sqlite:${join(dir, 'default.db')}`;
  const byDefault = await openStore(parseStoreConfig(url, {}), config);
  try {
    expect(byDefault).toBeInstanceOf(SqliteWorkerStore);
    expect(typeof byDefault.ingestGroup).toBe('function');
  } finally {
    await byDefault.close();
  }
  const inProcess = await openStore(parseStoreConfig(`sqlite:${join(dir, 'main.db')}`, { AUTHWATCH_SQLITE_WORKER: '0' }), config);
  try {
    expect(inProcess).toBeInstanceOf(SqliteStore);
    expect(inProcess.ingestGroup).toBeUndefined();
  } finally {
    await inProcess.close();
  }
});

const PLACES = [
  { country: 'DE', city: 'Berlin', latitude: 52.52, longitude: 13.4 },
  { country: 'US', city: 'New York', latitude: 40.71, longitude: -74.0 },
  { country: 'JP', city: 'Tokyo', latitude: 35.68, longitude: 139.69 },
  { country: 'BR', city: 'São Paulo', latitude: -23.55, longitude: -46.63 },
];
const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge'];

interface Round {
  batches: StoredEvent[][];
  /** Checks (/v1/check reservations) made before the round's batches: user, ip, attempt id. */
  checks: { user: string; ip: string; id: string }[];
}

/**
 * Mixed traffic, 2,000 events over 50 rounds of 4 concurrent batches: users logging in and out
 * with sessions from a home place (sometimes another continent, another browser), a brute-force
 * run against one user, a spray from one address over many users, logins settling reservations
 * (some never settled: they expire into failures), and re-sent events (duplicates).
 */
function traffic(t0: number, roundMs: number): Round[] {
  const rand = rng(42); // seeded: both stores get the very same input
  const pick = <T>(a: readonly T[]) => a[Math.floor(rand() * a.length)];
  const rounds: Round[] = [];
  const sent: StoredEvent[] = [];
  let n = 0;
  for (let r = 0; r < 50; r++) {
    const now = t0 + r * roundMs;
    const events: StoredEvent[] = [];
    const checks: Round['checks'] = [];
    while (events.length < 40) {
      const time = now - Math.floor(rand() * 5000);
      const id = `ev-${n++}`;
      const roll = rand();
      if (roll < 0.08 && sent.length) {
        events.push({ ...pick(sent) }); // re-sent: a duplicate
        continue;
      }
      if (roll < 0.2 && r >= 5 && r < 20) {
        // Brute force against alice from one address (locks her, fires brute_force).
        events.push(blankEvent({ id, time, type: 'login', user: 'alice', outcome: 'failure', reason: 'bad_password', ip: '203.0.113.9' }));
      } else if (roll < 0.32 && r >= 20 && r < 35) {
        // A spray: one address, many users, failures.
        events.push(blankEvent({ id, time, type: 'login', user: `victim${Math.floor(rand() * 40)}`, outcome: 'failure', reason: 'bad_password', ip: '198.51.100.66' }));
      } else {
        const u = Math.floor(rand() * 25);
        const user = `user${u}`;
        const home = PLACES[u % PLACES.length];
        const place = rand() < 0.05 ? pick(PLACES) : home;
        const ip = `192.0.2.${u + 1}`;
        const sid = `s-${u}-${Math.floor(r / 6)}`;
        const base = { ip, ...place, browser: rand() < 0.05 ? pick(BROWSERS) : BROWSERS[u % 4], os: 'Linux', device_type: 'desktop' };
        const k = rand();
        if (k < 0.45) {
          const outcome = rand() < 0.25 ? 'failure' : 'success';
          const e = blankEvent({ id, time, type: 'login', user, outcome, reason: outcome === 'failure' ? 'bad_password' : null, session_id: outcome === 'success' ? sid : null, ...base });
          if (rand() < 0.3) {
            const attempt = `att-${id}`;
            if (rand() < 0.8) checks.push({ user, ip, id: attempt });
            e.attempt_id = attempt;
          } else if (rand() < 0.1) checks.push({ user, ip, id: `att-orphan-${id}` }); // never settled: expires
          events.push(e);
        } else if (k < 0.85) events.push(blankEvent({ id, time, type: 'access', user, session_id: sid, ...base }));
        else events.push(blankEvent({ id, time, type: 'logout', user, session_id: sid, ...base }));
      }
      sent.push(events[events.length - 1]);
    }
    rounds.push({ batches: [events.slice(0, 10), events.slice(10, 20), events.slice(20, 30), events.slice(30)], checks });
  }
  return rounds;
}

interface RunOutput {
  results: IngestResult[];
  checks: unknown[];
  /** What the sinks and the commit listener were handed, ids of derived events blanked. */
  sunk: string[];
  committedTypes: string[];
}

async function drive(store: CoreStore, processors: { processors: Processor[]; isolatedProcessors: Processor[] }, rounds: Round[], t0: number, roundMs: number): Promise<RunOutput> {
  let now = t0;
  const sunk: string[] = [];
  const committedTypes: string[] = [];
  const sink: Sink = { name: 'rec', write: (events) => void sunk.push(...events.map(show)), close: async () => {} };
  const pipeline = new Pipeline({
    store,
    enrichers: [],
    ...processors,
    sinks: [sink],
    onCommit: (events) => void committedTypes.push(...events.map((e) => `${e.type}:${e.reason ?? ''}`)),
    log: quiet,
    clock: () => now,
  });
  const out: RunOutput = { results: [], checks: [], sunk, committedTypes };
  for (const [i, round] of rounds.entries()) {
    now = t0 + i * roundMs;
    for (const c of round.checks) {
      out.checks.push(await pipeline.run((ctx) => reserveAttempt(ctx, subjectOf(c.user, c.ip, keyRules(ctx.policy, false)), c.id)));
    }
    // Each event object is the pipeline's from here on (the lockout processor settles attempt ids on it).
    const batches = round.batches.map((b) => b.map((e) => ({ ...e })));
    // Queued in the same turn: committed as one group.
    out.results.push(...(await Promise.all(batches.map((b) => pipeline.ingest(b)))));
  }
  await pipeline.close();
  return out;
}

/** An event as the sinks see it, with the random ids of collector-made events left out. */
function show(e: StoredEvent): string {
  const { id, ...rest } = e;
  return JSON.stringify({ id: id.startsWith('ev-') ? id : '(derived)', ...rest });
}

/** Everything a store keeps for ingest, from the file (derived events' random ids blanked). */
function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const events = (db.prepare('SELECT * FROM events ORDER BY rowid').all() as Record<string, unknown>[]).map((r) => ({
      ...r,
      id: String(r.id).startsWith('ev-') ? r.id : '(derived)',
    }));
    return {
      events,
      lockouts: db.prepare('SELECT * FROM lockouts ORDER BY rowid').all(),
      failures: db.prepare('SELECT * FROM failures ORDER BY rowid').all(),
      reservations: db.prepare('SELECT * FROM reservations ORDER BY id').all(),
      sessions: db.prepare('SELECT * FROM sessions ORDER BY id').all(),
      state: db.prepare('SELECT * FROM state ORDER BY namespace, key').all(),
      user_last_seen: db.prepare('SELECT * FROM user_last_seen ORDER BY user').all(),
    };
  } finally {
    db.close();
  }
}

test('2,000 mixed events leave the same stored state through the writer thread as through the in-process store', async () => {
  const t0 = Date.UTC(2026, 10, 26, 12, 0, 0);
  const roundMs = 7_000;
  const rounds = traffic(t0, roundMs);
  expect(rounds.flatMap((r) => r.batches.flat())).toHaveLength(2000);

  const reference = new SqliteStore(join(dir, 'reference.db'));
  const a = await drive(reference, createIngestProcessors(config), rounds, t0, roundMs);
  await reference.close();

  const worker = await SqliteWorkerStore.open(join(dir, 'worker.db'), { ingest: config });
  const calls = { n: 0 };
  let b: RunOutput;
  try {
    expect(worker.ingestGroup).toBeDefined();
    b = await drive(worker, { processors: [tripwire(calls)], isolatedProcessors: [tripwire(calls)] }, rounds, t0, roundMs);
  } finally {
    await worker.close();
  }
  // The pipeline's own processors never ran: the writer thread's did.
  expect(calls.n).toBe(0);

  expect(b.results).toEqual(a.results);
  expect(b.checks).toEqual(a.checks);
  expect(b.committedTypes).toEqual(a.committedTypes);
  // Sinks get ingest's events on the next turn and run()'s at once, so only the order between those two may differ.
  expect([...b.sunk].sort()).toEqual([...a.sunk].sort());
  const da = dump(join(dir, 'reference.db'));
  const db = dump(join(dir, 'worker.db'));
  for (const table of Object.keys(da)) expect({ table, rows: db[table] }).toEqual({ table, rows: da[table] });

  // The input exercised what it is meant to (else equality would prove little).
  const count = (pred: (r: Record<string, unknown>) => boolean) => (da.events as Record<string, unknown>[]).filter(pred).length;
  expect(a.results.reduce((s, r) => s + r.duplicates, 0)).toBeGreaterThan(50);
  expect((da.lockouts as unknown[]).length).toBeGreaterThan(0);
  expect(count((r) => r.type === 'detection' && r.reason === 'brute_force')).toBeGreaterThan(0);
  expect(count((r) => r.type === 'detection' && r.reason === 'password_spray')).toBeGreaterThan(0);
  expect(count((r) => r.type === 'detection' && (r.reason === 'new_country' || r.reason === 'impossible_travel' || r.reason === 'new_device'))).toBeGreaterThan(0);
  expect(count((r) => r.type === 'session_end')).toBeGreaterThan(0);
  expect((da.sessions as unknown[]).length).toBeGreaterThan(20);
  expect((da.state as { namespace: string }[]).some((s) => s.namespace === 'attempt')).toBe(true);
  expect((da.reservations as { expired: number }[]).some((r) => r.expired === 1)).toBe(true);
  expect(a.committedTypes.filter((t) => t.startsWith('lockout')).length).toBeGreaterThan(0);
  // No attempt id reaches a sink (the lockout processor settles it in the writer thread).
  expect(b.sunk.some((s) => s.includes('attempt_id'))).toBe(false);
}, 120_000);

test('a bad batch in a group is refused alone, and the writer thread logs reach the collector log', async () => {
  const file = join(dir, 'poison.db');
  const store = await SqliteWorkerStore.open(file, { ingest: config });
  const log = recordingLog();
  try {
    // A failure only the writer thread can hit: the store itself refuses one batch's event, and
    // the user-profile detection cannot save mallory's profile.
    const db = new Database(file);
    db.exec(`CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.user = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned event'); END;
             CREATE TRIGGER no_profile BEFORE INSERT ON state WHEN NEW.key = 'mallory' BEGIN SELECT RAISE(ABORT, 'no profile for mallory'); END;`);
    db.close();
    const now = Date.now();
    const pipeline = new Pipeline({ store, enrichers: [], processors: [], sinks: [], log, clock: () => now });
    const fail = (id: string, user: string) => blankEvent({ id, time: now, type: 'login', user, outcome: 'failure', reason: 'bad_password', ip: '192.0.2.1' });
    const results = await Promise.allSettled([
      pipeline.ingest([fail('g1', 'bob'), fail('g2', 'bob')]),
      pipeline.ingest([fail('p1', 'carol'), fail('p2', 'poison')]),
      pipeline.ingest([fail('g3', 'bob'), blankEvent({ id: 'm1', time: now, type: 'login', user: 'mallory', outcome: 'success', browser: 'Firefox', os: 'Linux', device_type: 'desktop' })]),
    ]);
    await pipeline.close();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<IngestResult>).value).toEqual({ accepted: 2, duplicates: 0 });
    expect((results[2] as PromiseFulfilledResult<IngestResult>).value).toEqual({ accepted: 2, duplicates: 0 });
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('poisoned event');

    const page = await store.queryEvents({}, { limit: 100, cursor: null, order: 'asc' });
    expect(page.events.map((e) => e.id).sort()).toEqual(['g1', 'g2', 'g3', 'm1']);
    // The good batches were processed: bob's three failures are counted, carol's none.
    const rules = keyRules(await store.getPolicy(), false);
    const keys = [counterKeys(subjectOf('bob', null, rules)).user!, counterKeys(subjectOf('carol', null, rules)).user!];
    expect(await store.write((tx) => tx.countFailures(keys, now - 60_000))).toEqual([3, 0]);

    const msgs = log.lines.map((l) => `${l.level}:${l.msg}`);
    expect(msgs).toContain('warn:group commit failed as one batch; retrying batch by batch');
    expect(msgs).toContain('error:batch failed in processing');
    const failed = log.lines.find((l) => l.msg === 'processor failed; batch stored without its results');
    expect(failed?.level).toBe('error');
    expect(String(failed?.fields?.error)).toContain('no profile for mallory');
  } finally {
    await store.close();
  }
});

test('what decisions read is applied in commit order while a big group is still being parsed back for the sinks', async () => {
  const store = await SqliteWorkerStore.open(join(dir, 'order.db'), { ingest: config });
  const now = Date.now();
  const seen: string[] = [];
  const sunk: string[] = [];
  const pipeline = new Pipeline({
    store,
    enrichers: [],
    processors: [],
    sinks: [{ name: 'rec', write: (events) => void sunk.push(...events.map((e) => e.id)), close: async () => {} }],
    onCommit: (events) => void seen.push(...events.map((e) => `${e.type}:${e.user}`)),
    log: quiet,
    clock: () => now,
  });
  try {
    // One group of 10,000 events (50 slices to parse back); the first 7 are failures of one user,
    // whom the lockout processor locks at the 6th.
    const events = Array.from({ length: 10_000 }, (_, i) =>
      blankEvent({ id: `ord-${i}`, time: now - 20_000 + i, type: 'login', outcome: 'failure', reason: 'invalid_password', user: i < 7 ? 'victim' : `user${i}`, ip: `10.1.${i >> 8}.${i & 255}` }),
    );
    const ids = events.map((e) => e.id);
    const big = pipeline.ingest(events);
    // The store empties the batch once every slice is posted; the group's own post follows in
    // the same turn, so a transaction begun after this commits after the group.
    while (events.length) await new Promise<void>((r) => setImmediate(r));
    const admin = pipeline.run(async (ctx) => ctx.emit(blankEvent({ id: 'admin-after', time: now, type: 'admin', user: 'operator' })));
    await Promise.all([big, admin]);
    await pipeline.flush();
    // The lock is with the lock cache before anything committed later (an unlock, say) is.
    expect(seen).toContain('lockout:victim');
    expect(seen.indexOf('lockout:victim')).toBeLessThan(seen.indexOf('admin:operator'));
    // The clients' own events are for the sinks only, and all of them got there, in order.
    expect(seen.some((s) => s.startsWith('login:'))).toBe(false);
    expect(sunk.filter((id) => id.startsWith('ord-'))).toEqual(ids);
  } finally {
    await pipeline.close();
    await store.close();
  }
}, 60_000);
