// Scale-out as deployed (docs/scale-out.md): two real collector processes (collector/dist/main.js)
// on one PostgreSQL database behind a real HAProxy, round robin. What an attacker or an operator
// would notice: a burst of failures for one account locks it exactly once at the threshold
// whichever replica counted which failure; a brute-force attack split over the replicas is one
// detection; a lock or an unlock made through one replica reaches the other; writers for other
// users are not held up by a writer of one user (no cluster-wide lock); killing a replica mid-load
// loses nothing that was acknowledged.
import pg from 'pg';
import { PostgresStore, type LockChange } from '../src/store/postgres';
import { blankEvent } from '../src/schema/stored-event';
import { haproxyAvailable, startHaproxy, type Haproxy } from './helpers/haproxy';
import { describeWithPostgres, TestDatabases } from './helpers/postgres-db';
import { buildCollectorIfStale, callCollector, startKeyedCollector, type Answer, type KeyedCollector, type Role } from './helpers/spawn-collector';

const KEYS = { ingest: 'so-ingest-key', read: 'so-read-key', admin: 'so-admin-key' } as const;
const call = (base: string, method: string, path: string, role: Role, body?: unknown) => callCollector(base, KEYS, method, path, role, body);

interface Replica extends KeyedCollector {
  name: string;
}

async function startReplica(name: string, store: string): Promise<Replica> {
  return { ...(await startKeyedCollector(store, KEYS, { what: `replica ${name}` })), name };
}

const fail = (user: string, ip: string, id: string, extra: Record<string, unknown> = {}) => ({
  id, type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip, ...extra,
});

const dbs = new TestDatabases();
const describeScale = haproxyAvailable() ? describeWithPostgres('scale-out') : describe.skip;
if (!haproxyAvailable()) console.log('skipping scale-out: haproxy is not installed (apt-get install haproxy)');

describeScale('two replicas behind HAProxy on one PostgreSQL database', () => {
  let dbUrl: string;
  const replicas: Replica[] = [];
  let lb: Haproxy;
  const viaLb = (method: string, path: string, role: Role, body?: unknown) => call(lb.url, method, path, role, body);
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

  beforeAll(async () => {
    buildCollectorIfStale();
    dbUrl = await dbs.create();
    // One after the other: the second finds the schema migrated.
    replicas.push(await startReplica('r1', dbUrl));
    replicas.push(await startReplica('r2', dbUrl));
    lb = await startHaproxy(replicas.map((r) => new URL(r.url).host));
  }, 180_000);

  afterAll(async () => {
    await lb?.stop();
    for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exit));
    await dbs.dropAll();
  }, 60_000);

  test('200 parallel failures for one user, round robin through HAProxy: one lock at the 6th failure, all 200 stored (10 times)', async () => {
    const summary: string[] = [];
    for (let rep = 0; rep < 10; rep++) {
      const user = `burst-${run}-${rep}`;
      // Distinct addresses: only the per-user threshold applies (max_failed_attempts 5).
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) => viaLb('POST', '/v1/events', 'ingest', fail(user, `198.51.${100 + (i >> 8)}.${i & 255}`, `burst-${run}-${rep}-${i}`))),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
      const served = new Map<string, number>();
      for (const a of answers) served.set(a.servedBy ?? '?', (served.get(a.servedBy ?? '?') ?? 0) + 1);
      // Round robin really split the burst over both replicas.
      expect([...served.keys()].sort()).toEqual(['r1', 'r2']);
      const locks = (await call(replicas[0].url, 'GET', `/v1/lockouts?state=all&user=${user}`, 'read')).body.lockouts;
      expect(locks).toEqual([expect.objectContaining({ user, scope: 'user', failures: 6, state: 'locked', reason: 'too_many_failures' })]);
      expect((await call(replicas[1].url, 'GET', `/v1/events?type=lockout&user=${user}&limit=1`, 'read')).body.total).toBe(1);
      expect((await call(replicas[0].url, 'GET', `/v1/events?type=login&user=${user}&limit=1`, 'read')).body.total).toBe(200);
      for (const r of replicas) expect((await call(r.url, 'POST', '/v1/check', 'ingest', { user })).body).toMatchObject({ allowed: false, reason: 'user_locked' });
      summary.push(`${served.get('r1')}/${served.get('r2')}`);
    }
    // eslint-disable-next-line no-console
    console.log(`scale-out: 10 × 200 parallel failures through HAProxy (r1/r2 per burst: ${summary.join(', ')}) → 1 lock at 6 failures and 200 stored, each time`);
  }, 300_000);

  test('a brute-force attack split over the replicas is detected exactly once', async () => {
    const user = `bf-${run}`;
    // 14 failures in a few seconds: 7 per replica. Each replica alone would stay under the
    // threshold (8 in 120 s); together they cross it once (then the cooldown holds).
    const answers = await Promise.all(Array.from({ length: 14 }, (_, i) => viaLb('POST', '/v1/events', 'ingest', fail(user, `203.0.113.${i + 1}`, `bf-${run}-${i}`))));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const byReplica = { r1: answers.filter((a) => a.servedBy === 'r1').length, r2: answers.filter((a) => a.servedBy === 'r2').length };
    expect(byReplica.r1).toBeGreaterThan(0);
    expect(byReplica.r2).toBeGreaterThan(0);
    const detections = (await call(replicas[1].url, 'GET', `/v1/events?type=detection&user=${user}&limit=10`, 'read')).body;
    // eslint-disable-next-line no-console
    console.log(`scale-out: brute force split ${byReplica.r1}/${byReplica.r2} over r1/r2 → ${detections.total} detection(s)`);
    expect(detections.total).toBe(1);
    expect(detections.events[0]).toMatchObject({ reason: 'brute_force', user, attributes: expect.objectContaining({ failures: 8 }) });
  }, 120_000);

  test('a password spray and a credential stuffing from one address, split over the replicas, are each detected exactly once', async () => {
    // 40 unknown accounts from one address: each replica sees ~20. Spray (11 failing users) and
    // stuffing (20 users, mostly unknown) keep one shared window per address; each fires once.
    const ip = `198.18.${(Date.now() % 250) + 1}.77`;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => viaLb('POST', '/v1/events', 'ingest', fail(`nobody-${run}-${i}`, ip, `st-${run}-${i}`, { reason: 'invalid_user' }))),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const byReplica = { r1: answers.filter((a) => a.servedBy === 'r1').length, r2: answers.filter((a) => a.servedBy === 'r2').length };
    expect(byReplica.r1).toBeGreaterThan(0);
    expect(byReplica.r2).toBeGreaterThan(0);
    const detections = (await call(replicas[0].url, 'GET', `/v1/events?type=detection&ip=${ip}&limit=10`, 'read')).body;
    const kinds = detections.events.map((d: { reason: string }) => d.reason).sort();
    // eslint-disable-next-line no-console
    console.log(`scale-out: spray/stuffing split ${byReplica.r1}/${byReplica.r2} over r1/r2 → ${kinds.join(', ')}`);
    expect(kinds).toEqual(['credential_stuffing', 'password_spray']);
    const evidence = Object.fromEntries(detections.events.map((d: { reason: string; attributes: Record<string, unknown> }) => [d.reason, d.attributes]));
    expect(evidence.password_spray).toMatchObject({ distinct_users: 11, failures: 11 });
    expect(evidence.credential_stuffing).toMatchObject({ distinct_users: 20, failures: 20, unknown_user_share: 1 });
  }, 120_000);

  test('a lock made through one replica and lifted through the other: announced to every replica, answered from there', async () => {
    const user = `unlock-${run}`;
    const observer = await PostgresStore.open(dbUrl);
    const seen: { change: LockChange; at: number }[] = [];
    const sub = observer.onLockChange((change) => seen.push({ change, at: Date.now() }));
    try {
      await sub.ready;
      for (let i = 0; i < 6; i++) expect((await call(replicas[0].url, 'POST', '/v1/events', 'ingest', fail(user, '192.0.2.77', `ul-${run}-${i}`))).status).toBe(202);
      const waitFor = async (match: (c: LockChange) => boolean) => {
        for (let waited = 0; waited < 10_000; waited += 10) {
          const hit = seen.find((s) => match(s.change));
          if (hit) return hit;
          await new Promise((r) => setTimeout(r, 10));
        }
        return undefined;
      };
      const locked = await waitFor((c) => c.op === 'lock' && c.lock.user === user);
      expect(locked).toBeDefined();
      expect((await call(replicas[1].url, 'POST', '/v1/check', 'ingest', { user })).body).toMatchObject({ allowed: false, reason: 'user_locked' });

      const unlocked = await call(replicas[1].url, 'POST', `/v1/users/${user}/unlock`, 'admin');
      const answeredAt = Date.now();
      expect(unlocked.body).toEqual({ unlocked: 1 });
      // The other replica's store hears of it from the notification (LISTEN/NOTIFY), well within 1 s.
      const lockId = locked!.change.op === 'lock' ? locked!.change.lock.id : -1;
      const note = await waitFor((c) => c.op === 'unlock' && c.ids.includes(lockId));
      expect(note).toBeDefined();
      const notifyMs = Math.max(0, note!.at - answeredAt);
      expect(notifyMs).toBeLessThan(1000);
      // And the replica that did not unlock answers allowed (its mirror is kept by the same notifications).
      let polls = 0;
      let answer: Answer;
      do {
        answer = await call(replicas[0].url, 'POST', '/v1/check', 'ingest', { user });
        polls++;
      } while (answer.body.allowed !== true && polls < 200);
      // eslint-disable-next-line no-console
      console.log(`scale-out: unlock through r2 → notification at another store after ${notifyMs} ms; r1 answered allowed after ${Date.now() - answeredAt} ms (${polls} check(s))`);
      expect(answer.body).toEqual({ allowed: true });
    } finally {
      sub.close();
      await observer.close();
    }
  }, 120_000);

  test('no cluster-wide lock: while a writer holds user A open, a replica commits a batch for user B; a batch for A waits for it', async () => {
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    const holder = await PostgresStore.open(dbUrl);
    const userA = `holder-a-${run}`;
    const userB = `free-b-${run}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let signalHeld!: () => void;
    const held = new Promise<void>((r) => (signalHeld = r));
    let holding: Promise<void> | undefined;
    try {
      // "Replica A": a write transaction for user A, locks taken, left open.
      holding = holder.write(
        async (tx) => {
          await tx.insertEvents([blankEvent({ id: `hold-${run}`, time: Date.now(), type: 'login', outcome: 'failure', reason: 'invalid_password', user: userA, ip: '192.0.2.200' })]);
          await tx.activeLocks(userA, '192.0.2.200', Date.now());
          signalHeld();
          await gate;
        },
        { users: [userA], ips: ['192.0.2.200'] },
      );
      await held;
      let holderDone = false;
      void holding.then(() => (holderDone = true));

      // Replica r2 commits a batch for B meanwhile: full pipeline, another user and addresses
      // (ones no other test used: the burst's addresses would make this a password spray).
      const batchB = Array.from({ length: 20 }, (_, i) => fail(userB, `100.64.7.${i + 1}`, `free-${run}-${i}`));
      const b = await call(replicas[1].url, 'POST', '/v1/events', 'ingest', batchB);
      expect(b).toMatchObject({ status: 202, body: { accepted: 20, duplicates: 0 } });
      expect(holderDone).toBe(false);
      // Visible to everyone while A's transaction is still open.
      const seenB = (await call(replicas[0].url, 'GET', `/v1/events?user=${userB}&limit=100`, 'read')).body;
      // The 20 failures, the lock at the 6th and the brute-force detection at the 8th.
      expect(seenB.events.map((e: { type: string }) => e.type).sort()).toEqual([...Array(20).fill('login'), 'detection', 'lockout'].sort());

      // A batch for A through r2 waits on A's lock (seen waiting in pg_stat_activity)…
      let aDone = false;
      const a = call(replicas[1].url, 'POST', '/v1/events', 'ingest', fail(userA, '192.0.2.201', `wait-${run}`)).then((x) => ((aDone = true), x));
      let waiting = 0;
      for (let i = 0; i < 500 && waiting === 0; i++) {
        waiting = (
          await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`)
        ).rows[0].n;
        if (!waiting) await new Promise((r) => setTimeout(r, 20));
      }
      expect(waiting).toBeGreaterThan(0);
      expect(aDone).toBe(false);
      // …and goes through once A commits.
      release();
      await holding;
      expect((await a).status).toBe(202);
      expect((await call(replicas[0].url, 'GET', `/v1/events?user=${userA}&limit=1`, 'read')).body.total).toBe(2);
      // eslint-disable-next-line no-console
      console.log(`scale-out: with user A's transaction open, r2 committed 20 events for user B; a batch for A waited on A's advisory lock (${waiting} waiting) and committed after`);
    } finally {
      release();
      await holding?.catch(() => undefined);
      await holder.close();
      await admin.end();
    }
  }, 120_000);

  test('kill -9 of one replica under load: every acknowledged event is stored and the other replica keeps serving', async () => {
    const workers = 4;
    const perWorker = 25;
    const size = 30;
    const acked: string[][] = [];
    let killedAt = 0;
    const afterKill = { r2: 0, failedThenRetried: 0 };
    const batch = (w: number, k: number) =>
      Array.from({ length: size }, (_, i) => ({ id: `k9-${run}-${w}-${k}-${i}`, type: 'login', outcome: i % 3 ? 'success' : 'failure', user: `k9user${(w * 7 + i) % 40}`, ip: `203.0.113.${(k + i) % 200}`, service: `kill9-${run}` }));
    const worker = async (w: number) => {
      for (let k = 0; k < perWorker; k++) {
        const body = batch(w, k);
        // At least once: a request that fails (the proxy's 502 for a request the dead replica
        // had, a reset connection) is sent again with the same event ids.
        for (let attempt = 0; ; attempt++) {
          const a = await viaLb('POST', '/v1/events', 'ingest', body).catch(() => null);
          if (a?.status === 202) {
            acked.push(body.map((e) => e.id));
            if (killedAt && a.servedBy === 'r2') afterKill.r2++;
            break;
          }
          if (killedAt) afterKill.failedThenRetried++;
          if (attempt > 50) throw new Error(`batch ${w}/${k} not accepted after ${attempt} tries: ${a?.status} ${JSON.stringify(a?.body)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        if (!killedAt && acked.length >= 20) {
          killedAt = Date.now();
          replicas[0].child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
    expect(killedAt).toBeGreaterThan(0);
    expect(await replicas[0].exit).toBeNull(); // killed by the signal
    // Every acknowledged id, read back through the survivor.
    const stored = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: Answer = await call(replicas[1].url, 'GET', `/v1/events?service=kill9-${run}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 'read');
      for (const e of page.body.events) stored.add(e.id);
      cursor = page.body.next_cursor;
    } while (cursor);
    const ackedIds = acked.flat();
    const missing = ackedIds.filter((id) => !stored.has(id));
    // Lockout and detection events the batches caused carry their service too.
    const posted = [...stored].filter((id) => id.startsWith(`k9-${run}-`));
    // eslint-disable-next-line no-console
    console.log(
      `scale-out: kill -9 of r1 after ${acked.length >= 20 ? 20 : acked.length} acknowledged batches; ${acked.length} batches (${ackedIds.length} events) acknowledged in all, ` +
        `${afterKill.r2} by r2 after the kill, ${afterKill.failedThenRetried} failed request(s) retried; stored ${posted.length} (+${stored.size - posted.length} lockouts/detections), missing ${missing.length}`,
    );
    expect(missing).toEqual([]);
    expect(acked.length).toBe(workers * perWorker);
    expect(posted.length).toBe(workers * perWorker * size);
    expect(afterKill.r2).toBeGreaterThan(0);
    // The survivor still answers reads and checks through the proxy.
    expect((await viaLb('POST', '/v1/check', 'ingest', { user: 'k9user1' })).status).toBe(200);
  }, 300_000);
});
