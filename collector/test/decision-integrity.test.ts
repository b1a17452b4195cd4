// The lockout as an attacker meets it, against real collector processes over HTTP on SQLite and on
// PostgreSQL: event times cannot steer enforcement, parallel attempts cannot outrun the count,
// spelling variants of a name or an address are one key, IPv6 rotation inside a /64 is one key,
// IP truncation keeps enforcement working.
import { describeWithPostgres, PG_ADMIN_URL, TestDatabases } from './helpers/postgres-db';
import { buildCollectorIfStale, startKeyedCollector, stopCollector, type KeyedCollector } from './helpers/spawn-collector';
import { tempDir } from './helpers/server';
import { join } from 'node:path';

const KEYS = { ingest: 'di-ingest-key', read: 'di-read-key', admin: 'di-admin-key' } as const;

type Proc = KeyedCollector;
const start = (store: string, env: Record<string, string> = {}): Promise<Proc> => startKeyedCollector(store, KEYS, { env });
const stop = stopCollector;

const fail = (user: string, ip: string | null, extra: Record<string, unknown> = {}) => ({
  type: 'login', outcome: 'failure', reason: 'invalid_password', user, ...(ip ? { ip } : {}), ...extra,
});

let userSeq = 0;
const fresh = (name: string) => `${name}-${process.pid}-${++userSeq}`;

function suite(storeName: string, makeStore: () => Promise<string>, cleanup: () => Promise<void>) {
  let c: Proc;
  beforeAll(async () => {
    buildCollectorIfStale();
    c = await start(await makeStore(), { AUTHWATCH_SWEEP_SECONDS: '0.2' });
  }, 120_000);
  afterAll(async () => {
    await stop(c);
    await cleanup();
  }, 60_000);
  beforeEach(async () => {
    // Defaults, with a short attempt TTL for the expiry case.
    expect((await c.req('PUT', '/v1/policy', 'admin', { max_failed_attempts: 5, scope: 'user', ip_max_failed_attempts: 20, attempt_ttl_seconds: 60, ipv6_prefix: 64, user_case_sensitive: false })).status).toBe(200);
  });

  const check = async (user: string | null, ip?: string, attempt = false) =>
    (await c.req('POST', '/v1/check', 'ingest', { ...(user ? { user } : {}), ...(ip ? { ip } : {}), ...(attempt ? { attempt } : {}) })).body;
  const storedFor = async (user: string) => (await c.req('GET', `/v1/events?user=${encodeURIComponent(user)}&limit=1000`, 'read')).body.total as number;

  test(`${storeName}: a time ahead of the collector or in epoch seconds is refused, naming the field; nothing of that batch is stored`, async () => {
    const user = fresh('clock');
    const ahead = await c.req('POST', '/v1/events', 'ingest', [fail(user, '203.0.113.9'), fail(user, '203.0.113.9', { time: Date.now() + 86_400_000 })]);
    expect(ahead.status).toBe(400);
    expect(ahead.body.details).toEqual([expect.objectContaining({ index: 1, path: 'time', message: expect.stringMatching(/ahead of the collector's clock.*300 s/) })]);
    const seconds = await c.req('POST', '/v1/events', 'ingest', [fail(user, null, { time: 1795681000 })]);
    expect(seconds.status).toBe(400);
    expect(seconds.body.details[0]).toMatchObject({ path: 'time', message: expect.stringMatching(/epoch seconds/) });
    const y2k = await c.req('POST', '/v1/events', 'ingest', [fail(user, null, { time: '0000-01-01T00:00:00Z' })]);
    expect(y2k.status).toBe(400);
    expect(y2k.body.details[0].path).toBe('time');
    expect(await storedFor(user)).toBe(0);
    // Year 9999 cannot pre-lock anybody.
    const far = await c.req('POST', '/v1/events', 'ingest', Array.from({ length: 6 }, () => fail(user, null, { time: '9999-12-31T23:59:59Z' })));
    expect(far.status).toBe(400);
    expect(await check(user)).toEqual({ allowed: true });
  });

  test(`${storeName}: old failures never make a live lock, an old success never resets; fresh ones lock for lock_seconds`, async () => {
    const user = fresh('old');
    const twoHoursAgo = Date.now() - 7_200_000;
    expect((await c.req('POST', '/v1/events', 'ingest', Array.from({ length: 6 }, (_, i) => fail(user, '198.51.100.20', { time: twoHoursAgo + i })))).status).toBe(202);
    expect(await check(user)).toEqual({ allowed: true });
    expect(await storedFor(user)).toBe(6); // stored as data, shown and queried
    for (let i = 0; i < 6; i++) expect((await c.req('POST', '/v1/events', 'ingest', fail(user, '198.51.100.20'))).status).toBe(202);
    const locked = await check(user);
    expect(locked).toMatchObject({ allowed: false, reason: 'user_locked' });
    expect(locked.retry_after).toBeGreaterThan(880);
    expect(locked.retry_after).toBeLessThanOrEqual(900);

    const other = fresh('stale-success');
    for (let i = 0; i < 5; i++) await c.req('POST', '/v1/events', 'ingest', fail(other, '198.51.100.21'));
    await c.req('POST', '/v1/events', 'ingest', { type: 'login', outcome: 'success', user: other, ip: '198.51.100.21', time: Date.now() - 86_400_000 });
    await c.req('POST', '/v1/events', 'ingest', fail(other, '198.51.100.21'));
    expect(await check(other)).toMatchObject({ allowed: false, reason: 'user_locked' });
  });

  test(`${storeName}: 50 parallel attempt reservations let at most 6 through; settling them as failures locks`, async () => {
    const user = fresh('race');
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => check(user, `192.0.2.${i + 1}`, true)));
    const allowed = answers.filter((a) => a.allowed);
    const refused = answers.filter((a) => !a.allowed);
    console.log(`${storeName}: 50 parallel attempts → ${allowed.length} allowed, ${refused.length} refused (${[...new Set(refused.map((a) => a.reason))].join(', ')})`);
    expect(allowed.length).toBeLessThanOrEqual(6);
    expect(allowed.length).toBeGreaterThan(0);
    for (const a of allowed) expect(a.attempt_id).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(refused.every((a) => a.reason === 'attempt_limit' && a.retry_after === 60)).toBe(true);
    // The outcomes settle the reservations: six failures lock.
    const settled = await c.req('POST', '/v1/events', 'ingest', allowed.map((a, i) => fail(user, `192.0.2.${i + 1}`, { attempt_id: a.attempt_id })));
    expect(settled.status).toBe(202);
    expect(allowed.length).toBe(6);
    expect(await check(user, undefined, true)).toMatchObject({ allowed: false, reason: 'user_locked' });
    const locks = (await c.req('GET', `/v1/lockouts?state=all&user=${user}`, 'read')).body.lockouts;
    expect(locks).toHaveLength(1);
    expect(locks[0].failures).toBe(6);
  });

  test(`${storeName}: a success settles its reservation and resets; an abandoned reservation counts as a failure`, async () => {
    const user = fresh('settle');
    const a = await check(user, '192.0.2.200', true);
    expect(a.allowed).toBe(true);
    expect((await c.req('POST', '/v1/events', 'ingest', { type: 'login', outcome: 'success', user, ip: '192.0.2.200', attempt_id: a.attempt_id })).status).toBe(202);
    // Six fresh reservations fit again after the success.
    const again = await Promise.all(Array.from({ length: 8 }, () => check(user, '192.0.2.200', true)));
    expect(again.filter((x) => x.allowed)).toHaveLength(6);

    await c.req('PUT', '/v1/policy', 'admin', { attempt_ttl_seconds: 1 });
    const quitter = fresh('quitter');
    const held = await Promise.all(Array.from({ length: 6 }, () => check(quitter, '192.0.2.201', true)));
    expect(held.every((x) => x.allowed)).toBe(true);
    // Never settled: after the TTL the sweeper counts each as a failure, and six failures lock.
    let answer: any;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await check(quitter, '192.0.2.201');
      if (!answer.allowed) break;
    }
    expect(answer).toMatchObject({ allowed: false, reason: 'user_locked' });
    const expired = (await c.req('GET', `/v1/events?user=${quitter}&reason=attempt_expired&limit=100`, 'read')).body;
    expect(expired.total).toBe(6);
    // A late failure for an expired reservation is not counted twice; the lock holds 6 failures.
    await c.req('POST', '/v1/events', 'ingest', fail(quitter, '192.0.2.201', { attempt_id: held[0].attempt_id }));
    const locks = (await c.req('GET', `/v1/lockouts?state=all&user=${quitter}`, 'read')).body.lockouts;
    expect(locks).toEqual([expect.objectContaining({ failures: 6, scope: 'user' })]);
  });

  test(`${storeName}: "Eve" locked means eve, EVE and other Unicode forms are locked; ::ffff: spelling of a blocked IPv4 is blocked`, async () => {
    const base = fresh('Zoë');
    const nfc = base.normalize('NFC');
    const nfd = base.normalize('NFD');
    expect(nfc).not.toBe(nfd);
    for (let i = 0; i < 3; i++) await c.req('POST', '/v1/events', 'ingest', fail(nfc, '198.51.100.40'));
    for (let i = 0; i < 3; i++) await c.req('POST', '/v1/events', 'ingest', fail(nfd.toUpperCase(), '198.51.100.41'));
    for (const variant of [nfc, nfd, nfc.toLowerCase(), nfd.toUpperCase(), nfc.toUpperCase()]) {
      expect(await check(variant)).toMatchObject({ allowed: false, reason: 'user_locked' });
    }
    // The admin can unlock with any spelling, and the list shows the lock under any spelling.
    expect((await c.req('GET', `/v1/lockouts?user=${encodeURIComponent(nfd.toUpperCase())}`, 'read')).body.lockouts).toHaveLength(1);
    expect((await c.req('POST', `/v1/users/${encodeURIComponent(nfc.toUpperCase())}/unlock`, 'admin')).body).toEqual({ unlocked: 1 });
    expect(await check(nfd)).toEqual({ allowed: true });

    const ip = '203.0.113.77';
    await c.req('POST', '/v1/events', 'ingest', Array.from({ length: 21 }, (_, i) => fail(`${fresh('spray')}-${i}`, i % 2 ? `::ffff:${ip}` : ip)));
    for (const spelling of [ip, `::ffff:${ip}`, `::FFFF:${ip}`, '0:0:0:0:0:ffff:cb00:714d']) {
      expect(await check(fresh('someone'), spelling)).toMatchObject({ allowed: false, reason: 'ip_blocked' });
    }
    // Stored in one spelling too.
    expect((await c.req('GET', `/v1/events?ip=${ip}&type=login&limit=1`, 'read')).body.total).toBe(21);
  });

  test(`${storeName}: 25 failures from 25 addresses of one IPv6 /64 block the whole /64, shown and unlocked as the prefix`, async () => {
    const net = '2001:db8:77:42';
    const answers = await c.req('POST', '/v1/events', 'ingest', Array.from({ length: 25 }, (_, i) => fail(fresh('v6'), `${net}:${(i + 1).toString(16)}::${i + 7}`)));
    expect(answers.status).toBe(202);
    expect(await check(fresh('v6-other'), `${net}:ffff:ffff:ffff:1`)).toMatchObject({ allowed: false, reason: 'ip_blocked' });
    expect(await check(fresh('v6-other'), `fe80::1%eth0`)).toEqual({ allowed: true });
    expect(await check(fresh('v6-other'), '2001:db8:77:43::1')).toEqual({ allowed: true });
    const lock = (await c.req('GET', '/v1/lockouts', 'read')).body.lockouts.find((l: any) => l.scope === 'ip' && l.ip.startsWith('2001:db8:77:42'));
    expect(lock).toMatchObject({ ip: `${net}::/64`, failures: 21 });
    expect((await c.req('POST', `/v1/ips/${encodeURIComponent('2001:db8:77:42::/48')}/unlock`, 'admin')).status).toBe(400);
    expect((await c.req('POST', `/v1/ips/${encodeURIComponent(`${net}::/64`)}/unlock`, 'admin')).body).toEqual({ unlocked: 1 });
    expect(await check(fresh('v6-other'), `${net}::5`)).toEqual({ allowed: true });
  });
}

describe('decision integrity on SQLite', () => {
  const dir = tempDir();
  suite('sqlite', async () => `sqlite:${join(dir, 'authwatch.db')}`, async () => undefined);
});

const dbs = new TestDatabases();
describeWithPostgres('decision integrity on PostgreSQL')('decision integrity on PostgreSQL', () => {
  suite('postgres', () => dbs.create(), () => dbs.dropAll());
});

describe('with AUTHWATCH_IP_TRUNCATE=1 enforcement keeps working', () => {
  let c: Proc;
  beforeAll(async () => {
    buildCollectorIfStale();
    c = await start(`sqlite:${join(tempDir(), 'authwatch.db')}`, { AUTHWATCH_IP_TRUNCATE: '1' });
  }, 120_000);
  afterAll(() => stop(c));

  test('21 failures from 203.0.113.7 block 203.0.113.7 (and its /24, which is all that is stored)', async () => {
    expect((await c.req('POST', '/v1/events', 'ingest', Array.from({ length: 21 }, (_, i) => fail(`t${i}`, '203.0.113.7')))).status).toBe(202);
    expect((await c.req('POST', '/v1/check', 'ingest', { user: 'newcomer', ip: '203.0.113.7' })).body).toMatchObject({ allowed: false, reason: 'ip_blocked' });
    expect((await c.req('POST', '/v1/check', 'ingest', { user: 'newcomer', ip: '203.0.113.200' })).body).toMatchObject({ allowed: false, reason: 'ip_blocked' });
    expect((await c.req('POST', '/v1/check', 'ingest', { user: 'newcomer', ip: '203.0.114.7' })).body).toEqual({ allowed: true });
    const events = (await c.req('GET', '/v1/events?user=t0', 'read')).body.events;
    expect(events[0].ip).toBe('203.0.113.0');
  });
});

describeWithPostgres('attempt reservations across replicas')('attempt reservations across two PostgreSQL replicas', () => {
  const rdbs = new TestDatabases();
  const reps: Proc[] = [];
  beforeAll(async () => {
    buildCollectorIfStale();
    const store = await rdbs.create();
    reps.push(...(await Promise.all([start(store), start(store)])));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(reps.map(stop));
    await rdbs.dropAll();
  }, 60_000);

  test('200 parallel attempts round-robin over 2 replicas: at most 6 allowed, exactly one lock', async () => {
    const user = fresh('replica-race');
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => reps[i % 2].req('POST', '/v1/check', 'ingest', { user, ip: `198.18.${i >> 8}.${i & 255}`, attempt: true })),
    );
    const allowed = answers.map((a) => a.body).filter((b) => b.allowed);
    console.log(`postgres replicas: 200 parallel attempts → ${allowed.length} allowed`);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(allowed.length).toBeLessThanOrEqual(6);
    await Promise.all(allowed.map((a, i) => reps[i % 2].req('POST', '/v1/events', 'ingest', fail(user, '198.18.9.9', { attempt_id: a.attempt_id }))));
    const locks = (await reps[1].req('GET', `/v1/lockouts?state=all&user=${user}`, 'read')).body.lockouts;
    expect(locks).toHaveLength(1);
    expect((await reps[0].req('POST', '/v1/check', 'ingest', { user, attempt: true })).body).toMatchObject({ allowed: false, reason: 'user_locked' });
  });
});

if (!PG_ADMIN_URL) console.log('decision-integrity: PostgreSQL cases skipped (AUTHWATCH_TEST_PG not set)');
