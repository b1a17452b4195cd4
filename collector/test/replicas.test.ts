// Scale-out: three real collector processes (collector/dist/main.js) on one PostgreSQL database,
// as behind a load balancer. Lockouts must be exact across replicas, sessions and idempotency
// shared. Prints the numbers.
import { describeWithPostgres, TestDatabases } from './helpers/postgres-db';
import { buildCollectorIfStale, startKeyedCollector, type KeyedCollector } from './helpers/spawn-collector';

const KEYS = { ingest: 'replica-ingest-key', read: 'replica-read-key', admin: 'replica-admin-key' } as const;

interface Replica extends KeyedCollector {
  name: string;
}

async function startReplica(name: string, store: string): Promise<Replica> {
  return { ...(await startKeyedCollector(store, KEYS, { what: `replica ${name}` })), name };
}

const dbs = new TestDatabases();

describeWithPostgres('replicas')('three collector replicas on one PostgreSQL database', () => {
  const replicas: Replica[] = [];

  beforeAll(async () => {
    buildCollectorIfStale();
    const store = await dbs.create();
    // Started together: they race on the migrations and on the shared session-hash key.
    replicas.push(...(await Promise.all(['A', 'B', 'C'].map((n) => startReplica(n, store)))));
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGTERM');
    const codes = await Promise.all(replicas.map((r) => r.exit));
    await dbs.dropAll();
    expect(codes).toEqual(replicas.map(() => 0));
  }, 60_000);

  test('each replica says it runs on PostgreSQL, without printing the password', async () => {
    for (const r of replicas) {
      expect((await r.req('GET', '/healthz', 'read')).body).toEqual({ status: 'ok' });
      expect(r.out()).toMatch(/store: postgres(ql)?:\/\/[^\s]*authwatch_test_/);
      const password = new URL(process.env.AUTHWATCH_TEST_PG!).password;
      if (password) expect(r.out()).not.toContain(`:${password}@`);
    }
  });

  test('60 concurrent failed logins spread over the replicas lock the account exactly once', async () => {
    const user = 'mallory';
    const started = Date.now();
    // Distinct IPs, so only the user-scope threshold applies (no IP block); distinct services, so
    // the per-minute count rows do not happen to serialise the transactions for us.
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        replicas[i % replicas.length].req('POST', '/v1/events', 'ingest', {
          id: `fail-${i}`, type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip: `198.51.100.${i + 1}`, service: `app-${i}`,
        }),
      ),
    );
    const ms = Date.now() - started;
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const lockoutEvents = await replicas[0].req('GET', `/v1/events?type=lockout&user=${user}&limit=100`, 'read');
    const views = await Promise.all(replicas.map((r) => r.req('GET', '/v1/lockouts?state=all', 'read')));
    const checks = await Promise.all(replicas.map((r) => r.req('POST', '/v1/check', 'ingest', { user, ip: '203.0.113.250' })));
    // eslint-disable-next-line no-console
    console.log(
      `replicas: 60 concurrent failures over ${replicas.length} replicas in ${ms} ms → ${lockoutEvents.body.total} lockout event(s), ` +
        `lockouts per replica ${views.map((v) => v.body.lockouts.length).join('/')}, ` +
        `check refused on ${checks.filter((c) => c.body.allowed === false).length}/${replicas.length}`,
    );
    expect(lockoutEvents.body.total).toBe(1);
    const first = views[0].body;
    expect(first.lockouts).toEqual([expect.objectContaining({ user, scope: 'user', failures: 6, state: 'locked', reason: 'too_many_failures' })]);
    for (const v of views) expect(v.body).toEqual(first);
    for (const c of checks) expect(c.body).toEqual({ allowed: false, reason: 'user_locked', retry_after: expect.any(Number) });
    // All 60 attempts are stored, once each.
    expect((await replicas[2].req('GET', `/v1/events?type=login&user=${user}&limit=1`, 'read')).body.total).toBe(60);
  });

  test('a session opened via A and terminated via B is ended on A (and C)', async () => {
    const [a, b, c] = replicas;
    const login = await a.req('POST', '/v1/events', 'ingest', { type: 'login', outcome: 'success', user: 'alice', ip: '192.0.2.10', session_id: 'sess-replicas-1' });
    expect(login.status).toBe(202);
    expect((await c.req('GET', '/v1/sessions/sess-replicas-1', 'ingest')).body).toMatchObject({ state: 'active' });
    const term = await b.req('POST', '/v1/sessions/sess-replicas-1/terminate', 'admin');
    expect(term.status).toBe(200);
    for (const r of [a, c]) {
      expect((await r.req('GET', '/v1/sessions/sess-replicas-1', 'ingest')).body).toMatchObject({ state: 'ended', end_reason: 'terminated_by_admin' });
    }
    // eslint-disable-next-line no-console
    console.log('replicas: session opened on A, terminated on B → A and C report ended/terminated_by_admin');
  });

  test('batched ingest through the replicas (1,000-event batches, full pipeline), printed', async () => {
    const batches = 30;
    const t0 = Date.now() - 60_000;
    const batch = (b: number) =>
      Array.from({ length: 1000 }, (_, i) => ({
        id: `bulk-${b}-${i}`, time: t0 + i, type: 'login', outcome: i % 4 ? 'success' : 'failure', reason: i % 4 ? undefined : 'invalid_password',
        user: `bulk${(b * 1000 + i) % 5000}`, ip: `203.0.113.${i % 250}`, service: 'bulk', session_id: i % 4 ? `bulk-s-${b}-${i}` : undefined,
      }));
    const bodies = Array.from({ length: batches }, (_, b) => batch(b));
    const started = process.hrtime.bigint();
    // One batch in flight per replica at a time, as three load-balanced clients.
    const statuses: number[] = [];
    await Promise.all(
      replicas.map(async (r, k) => {
        for (let b = k; b < batches; b += replicas.length) statuses.push((await r.req('POST', '/v1/events', 'ingest', bodies[b])).status);
      }),
    );
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    // eslint-disable-next-line no-console
    console.log(`replicas: PostgreSQL batched ingest over HTTP, ${replicas.length} replicas, ${batches} × 1,000 events in ${secs.toFixed(2)} s = ${Math.round((batches * 1000) / secs)} events/s`);
    expect(statuses).toEqual(bodies.map(() => 202));
    expect((await replicas[1].req('GET', '/v1/events?service=bulk&type=login&limit=1', 'read')).body.total).toBe(batches * 1000);
  }, 180_000);

  test('the same ids posted through different replicas at once are stored once', async () => {
    const batch = Array.from({ length: 200 }, (_, i) => ({ id: `dup-${i}`, type: 'access', reason: 'api_request', user: `u${i % 7}`, ip: '192.0.2.77' }));
    const answers = await Promise.all(replicas.map((r) => r.req('POST', '/v1/events', 'ingest', batch)));
    expect(answers.map((x) => x.status)).toEqual([202, 202, 202]);
    const accepted = answers.reduce((n, x) => n + x.body.accepted, 0);
    const duplicates = answers.reduce((n, x) => n + x.body.duplicates, 0);
    // eslint-disable-next-line no-console
    console.log(`replicas: 200 ids posted through each of 3 replicas at once → accepted ${accepted}, duplicates ${duplicates}`);
    expect(accepted).toBe(200);
    expect(duplicates).toBe(400);
    for (const r of replicas) expect((await r.req('GET', '/v1/events?type=access&ip=192.0.2.77&limit=1', 'read')).body.total).toBe(200);
  });
});
