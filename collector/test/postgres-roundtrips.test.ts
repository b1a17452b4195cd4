// How many statements a 1,000-event batch costs on PostgreSQL, counted (not timed): a real
// collector process with the counting shim preloaded (helpers/pg-count-shim.cjs) posts mixed
// batches whose failures lock accounts and addresses. Every statement is a round trip made while
// the batch's key locks are held, so the count bounds how long other replicas wait.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describeWithPostgres, TestDatabases } from './helpers/postgres-db';
import { buildCollectorIfStale, startKeyedCollector, stopCollector, type KeyedCollector } from './helpers/spawn-collector';

const KEYS = { ingest: 'rt-ingest-key', read: 'rt-read-key', admin: 'rt-admin-key' } as const;
const dbs = new TestDatabases();

/** Deterministic mixed traffic, users of its own per batch: 40 of them fail ~6 times each, so many lock. */
function batch(tag: string, n = 1000): object[] {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => {
    const r = rand();
    // A success clears a user's failure count: the failing users (40) never succeed.
    const user = r < 0.25 ? `${tag}-victim${Math.floor(rand() * 40)}` : `${tag}-user${Math.floor(rand() * 300)}`;
    const base = { id: `${tag}-${i}`, user, ip: `81.2.${1 + Math.floor(rand() * 250)}.${1 + Math.floor(rand() * 250)}`, service: ['portal', 'api'][i % 2] };
    if (r < 0.25) return { ...base, type: 'login', outcome: 'failure', reason: 'invalid_password' };
    if (r < 0.8) return { ...base, type: 'login', outcome: 'success', session_id: `s-${user}-${Math.floor(rand() * 1e6)}` };
    if (r < 0.95) return { ...base, type: 'access', outcome: 'success', entry: 'report_download' };
    return { ...base, type: 'logout', outcome: 'success' };
  });
}

describeWithPostgres('postgres round trips')('statements per 1,000-event batch on PostgreSQL', () => {
  let c: KeyedCollector | undefined;
  let tmp: string;
  let countFile: string;
  let store: string;

  beforeAll(async () => {
    buildCollectorIfStale();
    store = await dbs.create();
    tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-rt-'));
    countFile = join(tmp, 'counts.json');
    c = await startKeyedCollector(store, KEYS, {
      what: 'collector',
      env: { NODE_OPTIONS: `--require ${join(__dirname, 'helpers', 'pg-count-shim.cjs')}`, AUTHWATCH_PG_COUNT_FILE: countFile },
    });
  }, 120_000);

  afterAll(async () => {
    await stopCollector(c);
    await dbs.dropAll();
    rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  /** The statements counted since the last call, by kind. */
  async function counted(): Promise<Map<string, number>> {
    const before = existsSync(countFile) ? readFileSync(countFile, 'utf8') : '';
    c!.child.kill('SIGUSR2');
    for (let i = 0; i < 400; i++) {
      const now = existsSync(countFile) ? readFileSync(countFile, 'utf8') : '';
      if (now && now !== before) return new Map((JSON.parse(now).rows as { statement: string; n: number }[]).map((r) => [r.statement, r.n]));
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('the counting shim did not answer');
  }

  async function lockouts(): Promise<number> {
    const db = new pg.Client({ connectionString: store });
    await db.connect();
    try {
      return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM lockouts')).rows[0].n;
    } finally {
      await db.end();
    }
  }

  test('a replica that has just started answers a burst of /v1/check from memory, without reading locks or policy', async () => {
    await counted(); // start-up's own statements (migrations, partitions, the lock mirror's load)
    const answers = await Promise.all(Array.from({ length: 64 }, (_, i) => c!.req('POST', '/v1/check', 'ingest', { user: `first-${i}`, ip: `198.51.100.${i + 1}` })));
    expect(answers.map((a) => a.status)).toEqual(Array(64).fill(200));
    expect(answers.every((a) => a.body.allowed === true)).toBe(true);
    const counts = await counted();
    // Read per check, these queued on the 10 pooled connections and held the first clients for
    // hundreds of ms (P8's /v1/check tail).
    expect([...counts.keys()].filter((s) => /FROM lockouts|FROM meta/.test(s))).toEqual([]);
  }, 60_000);

  test('a batch that locks keys costs a bounded number of statements, not one per lock', async () => {
    // Warm-up: the detections' state namespaces are learnt on the first batch.
    for (const tag of ['warm-a', 'warm-b']) expect((await c!.req('POST', '/v1/events', 'ingest', batch(tag))).status).toBe(202);
    await counted();
    const locksBefore = await lockouts();
    const batches = 3;
    for (let b = 0; b < batches; b++) expect((await c!.req('POST', '/v1/events', 'ingest', batch(`b${b}`))).status).toBe(202);
    const counts = await counted();
    const made = (await lockouts()) - locksBefore;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    // eslint-disable-next-line no-console
    console.log(`postgres round trips: ${total / batches} statements per 1,000-event batch (${made} locks made in ${batches} batches): ${JSON.stringify(Object.fromEntries(counts))}`);
    // Every batch locks users and addresses of its own.
    expect(made).toBeGreaterThan(batches * 10);
    expect(counts.get('INSERT_EVENTS')).toBeGreaterThanOrEqual(batches);
    expect(counts.get('PREFETCH')).toBe(batches);
    expect(counts.get('COMMIT')).toBe(batches);
    // BEGIN, events, key locks, prefetch, derived events with the buffered writes, COMMIT, plus
    // an occasional prune, expiry scan or lock-id draw.
    expect(total / batches).toBeLessThanOrEqual(9);
    // Each lock is written and announced with the other writes, not in a statement of its own.
    expect([...counts.keys()].filter((s) => s.includes('INSERT INTO lockouts'))).toEqual([]);
  }, 120_000);

  test('the locks written in bulk reach /v1/check and the lockout list with their announced ids', async () => {
    const listed = await c!.req('GET', '/v1/lockouts?state=all&limit=1000', 'read');
    expect(listed.status).toBe(200);
    const locks = listed.body.lockouts as { id: number; user: string | null; ip: string | null; scope: string; state: string }[];
    expect(locks.length).toBe(await lockouts());
    const userLock = locks.find((l) => l.scope === 'user' && l.state === 'locked');
    expect(userLock).toBeDefined();
    const check = await c!.req('POST', '/v1/check', 'ingest', { user: userLock!.user, ip: '203.0.113.9' });
    expect(check.body).toEqual(expect.objectContaining({ allowed: false }));
    // The lockout events carry the ids of the rows (lock_id), as the lock cache follows them.
    const events = await c!.req('GET', '/v1/events?type=lockout&limit=1000', 'read');
    const ids = new Set(locks.map((l) => l.id));
    const eventIds = (events.body.events as { attributes: { lock_id: number } }[]).map((e) => e.attributes.lock_id);
    expect(eventIds.length).toBe(locks.length);
    for (const id of eventIds) expect(ids.has(id)).toBe(true);
  }, 60_000);
});
