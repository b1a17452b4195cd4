// Attempt checks on PostgreSQL while a big batch is being processed (docs/lockout.md). A batch of
// more than 64 keys holds its stripes of the key space exclusively from its first lockout read to
// its commit; an attempt reservation takes only its own keys' locks and reads everything its
// decision needs in one statement. What a user of guardLogin notices: the check is answered while
// the batch runs (before, it waited for the batch, and with the client's 300 ms timeout the login
// went ahead unchecked). What an attacker would try: the outcome of an attempt arriving in that
// batch while the late check for the same attempt id reserves it — the failure counts once.
import pg from 'pg';
import { PostgresStore } from '../src/store/postgres';
import { blankEvent } from '../src/schema/stored-event';
import { createLockoutProcessor } from '../src/processors/lockout';
import { describeWithPostgres, TestDatabases } from './helpers/postgres-db';
import { buildCollectorIfStale, startKeyedCollector, stopCollector, type KeyedCollector } from './helpers/spawn-collector';

const KEYS = { ingest: 'ko-ingest-key', read: 'ko-read-key', admin: 'ko-admin-key' } as const;
const dbs = new TestDatabases();

/** Resolves with p's value, or rejects after ms (the test then fails naming what waited). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describeWithPostgres('attempt reservations under key locks only')('attempt checks while a big batch holds its stripes (PostgreSQL)', () => {
  let dbUrl: string;
  let c: KeyedCollector;
  let truncating: KeyedCollector;
  let holder: PostgresStore;
  let admin: pg.Client;
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

  beforeAll(async () => {
    buildCollectorIfStale();
    dbUrl = await dbs.create();
    // A sweep every 0.2 s: it too waits for a held batch, and had it the cluster-wide lock
    // (as before) every check would queue behind it.
    c = await startKeyedCollector(dbUrl, KEYS, { what: 'collector', env: { AUTHWATCH_SWEEP_SECONDS: '0.2' } });
    truncating = await startKeyedCollector(dbUrl, KEYS, { what: 'collector with AUTHWATCH_IP_TRUNCATE=1', env: { AUTHWATCH_IP_TRUNCATE: '1' } });
    holder = await PostgresStore.open(dbUrl);
    admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
  }, 180_000);

  afterAll(async () => {
    await admin?.end();
    await holder?.close();
    await stopCollector(c);
    await stopCollector(truncating);
    await dbs.dropAll();
  }, 60_000);

  /**
   * Opens a write transaction for `user`, `ip` and 99 other users (a big batch: stripes, no key
   * locks), runs `body` in it, and keeps it open until the returned release() is called.
   */
  async function holdBatch(user: string, ip: string, body: (tx: Parameters<Parameters<PostgresStore['write']>[0]>[0]) => Promise<void>) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const ready = new Promise<void>((r) => (held = r));
    let done = false;
    const others = Array.from({ length: 99 }, (_, i) => `other-${run}-${i}`);
    const holding = holder
      .write(
        async (tx) => {
          await body(tx);
          held();
          await gate;
        },
        { users: [user, ...others], ips: [ip] },
      )
      .then(() => {
        done = true;
      });
    // A body that throws ends the transaction: the test fails with its error instead of waiting.
    await Promise.race([ready, holding.then(() => Promise.reject(new Error('the batch transaction ended before it was held')))]);
    return { release, holding, done: () => done };
  }

  async function waitingOnAdvisoryLocks(): Promise<number> {
    for (let i = 0; i < 250; i++) {
      const n = (
        await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
        )
      ).rows[0].n;
      if (n) return n;
      await new Promise((r) => setTimeout(r, 20));
    }
    return 0;
  }

  test("an attempt check is answered while a batch holding the user's stripe is open; a plain event for the user waits for it", async () => {
    const user = `busy-${run}`;
    const batch = await holdBatch(user, '192.0.2.10', async (tx) => {
      await tx.activeLocks(user, '192.0.2.10', Date.now()); // takes the stripes
    });
    try {
      // A single event for the user is a small writer: it needs the stripe and waits.
      let eventDone = false;
      const event = c
        .req('POST', '/v1/events', 'ingest', { type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip: '192.0.2.11' })
        .then((x) => ((eventDone = true), x));
      expect(await waitingOnAdvisoryLocks()).toBeGreaterThan(0);
      // Attempt checks for the same user, its address and a retried attempt id are answered now.
      const answers = await within(
        Promise.all([
          c.req('POST', '/v1/check', 'ingest', { user, ip: '192.0.2.10', attempt: true, attempt_id: `attempt-one-${run}` }),
          c.req('POST', '/v1/check', 'ingest', { user, ip: '192.0.2.10', attempt: true, attempt_id: `attempt-one-${run}` }),
          c.req('POST', '/v1/check', 'ingest', { user: user.toUpperCase(), ip: '2001:db8:77::1', attempt: true }),
        ]),
        10_000,
        'attempt checks during the batch',
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.map((a) => a.body.allowed)).toEqual([true, true, true]);
      expect(answers[0].body.attempt_id).toBe(`attempt-one-${run}`);
      expect(answers[1].body.attempt_id).toBe(`attempt-one-${run}`);
      expect(batch.done()).toBe(false);
      expect(eventDone).toBe(false);
      const stored = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM reservations WHERE "user" = $1', [user]);
      // The retried id reserved once.
      expect(stored.rows[0].n).toBe(2);
      batch.release();
      await batch.holding;
      expect((await event).status).toBe(202);
    } finally {
      batch.release();
      await batch.holding.catch(() => undefined);
    }
  }, 60_000);

  test('the outcome of an attempt committed by a batch the late check did not wait for counts once, not again when the reservation lapses', async () => {
    const user = `late-${run}`;
    const attemptId = `late-${run}-attempt`;
    expect((await c.req('PUT', '/v1/policy', 'admin', { attempt_ttl_seconds: 1 })).status).toBe(200);
    let release = () => undefined as void;
    try {
      // The batch: the attempt's failure (the client gave up waiting for its check), processed
      // by the lockout processor. It finds no reservation to settle, so it marks the id settled.
      const failure = blankEvent({ id: `late-${run}-event`, time: Date.now(), type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip: '192.0.2.20' });
      failure.attempt_id = attemptId;
      const batch = await holdBatch(user, '192.0.2.20', async (tx) => {
        await tx.insertEvents([failure]);
        const policy = await tx.getPolicy();
        await createLockoutProcessor().process([failure], { now: Date.now(), tx, policy, emit: () => undefined });
      });
      // The late check for the same attempt: it does not see the uncommitted mark and reserves.
      release = batch.release;
      const late = await within(c.req('POST', '/v1/check', 'ingest', { user, ip: '192.0.2.20', attempt: true, attempt_id: attemptId }), 10_000, 'the late check');
      expect(late).toMatchObject({ status: 200, body: { allowed: true, attempt_id: attemptId } });
      batch.release();
      await batch.holding;

      // The sweeper expires the lapsed reservation (every 0.2 s) and sees the settled mark.
      let expired = false;
      for (let i = 0; i < 100 && !expired; i++) {
        await new Promise((r) => setTimeout(r, 100));
        expired = (await admin.query<{ expired: boolean }>('SELECT expired FROM reservations WHERE id = $1', [attemptId])).rows[0]?.expired ?? false;
      }
      expect(expired).toBe(true);
      const failures = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM failures WHERE key = $1', [`u:${user}`]);
      expect(failures.rows[0].n).toBe(1);
      const lapsed = (await c.req('GET', `/v1/events?user=${user}&reason=attempt_expired&limit=10`, 'read')).body;
      expect(lapsed.total).toBe(0);
    } finally {
      release();
      await c.req('PUT', '/v1/policy', 'admin', { attempt_ttl_seconds: 60 });
    }
  }, 60_000);

  test('with AUTHWATCH_IP_TRUNCATE=1 the check locks by the truncated address: during a batch, 10 parallel attempts, 6 allowed', async () => {
    const user = `trunc-${run}`;
    // The batch holds the stripe of the truncated address the checks are counted under.
    const batch = await holdBatch(user, '198.51.100.0', async (tx) => {
      await tx.activeLocks(user, '198.51.100.0', Date.now());
    });
    try {
      const answers = await within(
        Promise.all(Array.from({ length: 10 }, (_, i) => truncating.req('POST', '/v1/check', 'ingest', { user, ip: `198.51.100.${i + 1}`, attempt: true }))),
        10_000,
        'truncated attempt checks during the batch',
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      expect(answers.filter((a) => a.body.allowed)).toHaveLength(6);
      expect(answers.filter((a) => !a.body.allowed).map((a) => a.body.reason)).toEqual(Array(4).fill('attempt_limit'));
      expect(batch.done()).toBe(false);
      const stored = await admin.query<{ ip: string }>('SELECT DISTINCT ip FROM reservations WHERE "user" = $1', [user]);
      expect(stored.rows).toEqual([{ ip: '198.51.100.0' }]);
    } finally {
      batch.release();
      await batch.holding;
    }
  }, 60_000);
});
