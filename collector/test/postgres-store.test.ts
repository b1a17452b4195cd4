// Runs the store contract against the PostgreSQL store on a real server (fresh databases, dropped
// at the end), plus PostgreSQL specifics: migrations under concurrency, query plans, cross-instance
// serialisation, batched-ingest throughput (printed).
import pg from 'pg';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { PostgresStore, redactUrl } from '../src/store/postgres';
import type { CoreStore } from '../src/store/store';
import { describeWithPostgres, TestDatabases } from './helpers/postgres-db';
import { storeContract } from './store-contract';

const dbs = new TestDatabases();
const urls = new WeakMap<CoreStore, string>();
afterAll(() => dbs.dropAll());

describeWithPostgres('postgres store')('postgres store', () => {
  storeContract('postgres', {
    async create() {
      const url = await dbs.create();
      const s = await PostgresStore.open(url);
      urls.set(s, url);
      return s;
    },
    async reopen(store: CoreStore) {
      const url = urls.get(store)!;
      await store.close();
      const s = await PostgresStore.open(url);
      urls.set(s, url);
      return s;
    },
  });

  describe('postgres specifics', () => {
    let url: string;
    let raw: pg.Client;
    beforeAll(async () => {
      url = await dbs.create();
      raw = new pg.Client({ connectionString: url });
      await raw.connect();
    });
    afterAll(() => raw.end());

    test('replicas starting together migrate once; migrations are recorded', async () => {
      const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url)));
      await Promise.all(stores.map((s) => s.close()));
      const rows = (await raw.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
      expect(rows).toEqual([{ version: 1, name: 'initial' }, { version: 2, name: 'attempt_reservations' }]);
      const types = (await raw.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events' AND column_name IN ('time', 'attributes')`)).rows;
      expect(Object.fromEntries(types.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]))).toEqual({ time: 'bigint', attributes: 'jsonb' });
    });

    test('queries use indexes', async () => {
      const s = await PostgresStore.open(url);
      await s.close();
      await raw.query('SET enable_seqscan = off');
      const plan = async (sql: string) => (await raw.query(`EXPLAIN ${sql}`)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join(' | ');
      expect(await plan(`SELECT * FROM events WHERE "user" = 'a' AND "time" >= 1 ORDER BY "time" DESC, seq DESC LIMIT 10`)).toMatch(/events_user_time|events_time/);
      expect(await plan(`SELECT * FROM events WHERE "time" >= 1 ORDER BY "time" DESC, seq DESC LIMIT 10`)).toMatch(/Index Scan Backward using events_time/);
      expect(await plan('SELECT * FROM sessions WHERE ended_at IS NULL AND last_seen_at < 5')).toMatch(/sessions_active_seen/);
      expect(await plan(`SELECT count(*) FROM failures WHERE key = 'u:a' AND "time" > 1`)).toMatch(/failures_key_time/);
      expect(await plan(`SELECT * FROM lockouts WHERE scope = 'user' AND "user" = 'a'`)).toMatch(/lockouts_user/);
      await raw.query('RESET enable_seqscan');
    });

    test('two store instances (as two replicas) serialise writers: no lost update', async () => {
      const a = await PostgresStore.open(url);
      const b = await PostgresStore.open(url);
      try {
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            (i % 2 ? a : b).write(async (tx) => {
              const n = (await tx.getState<number>('counter', 'x')) ?? 0;
              await new Promise((r) => setTimeout(r, 1));
              await tx.putState('counter', 'x', n + 1, null);
            }),
          ),
        );
        expect(await a.write((tx) => tx.getState<number>('counter', 'x'))).toBe(40);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('U+0000 (failure-key separator, odd input) is stored consistently instead of failing the batch', async () => {
      const s = await PostgresStore.open(url);
      try {
        const counts = await s.write(async (tx) => {
          await tx.addFailure(['ui:nul\u0000192.0.2.1'], 1000, 0);
          return tx.addFailure(['ui:nul\u0000192.0.2.1', 'ui:nul\u0000192.0.2.2'], 2000, 0);
        });
        expect(counts).toEqual([2, 1]);
        await s.write(async (tx) => {
          await tx.insertEvents([blankEvent({ id: 'nul-1', time: 5, type: 'login', user: 'nul\u0000user', attributes: { note: 'a\u0000b' } })]);
          await tx.putState('ns', 'k\u0000', { v: 'x\u0000y' }, null);
        });
        const page = await s.queryEvents({ user: ['nul\u0000user'] }, { limit: 5, cursor: null, order: 'asc' });
        expect(page.events.map((e) => e.id)).toEqual(['nul-1']);
        expect((await s.queryEvents({ user: ['\u0000no-match'] }, { limit: 5, cursor: null, order: 'asc' })).total).toBe(0);
        expect(await s.write((tx) => tx.getState('ns', 'k\u0000'))).toEqual({ v: 'x\ufffdy' });
      } finally {
        await s.close();
      }
    });

    test('the description never shows the password', () => {
      expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    });

    test('batched ingest throughput (1,000-event batches), printed', async () => {
      const s = await PostgresStore.open(url);
      try {
        const batches = 20;
        const make = (b: number): StoredEvent[] =>
          Array.from({ length: 1000 }, (_, i) =>
            blankEvent({
              id: `bench-${b}-${i}`, time: Date.now() - i, type: 'login', user: `user${i % 200}`, outcome: i % 3 ? 'success' : 'failure',
              reason: i % 3 ? null : 'invalid_password', ip: `198.51.100.${i % 250}`, service: 'portal', country: 'NL', attributes: { n: i },
            }),
          );
        const before = (await s.queryEvents({}, { limit: 1, cursor: null, order: 'desc' })).total;
        const t = process.hrtime.bigint();
        for (let b = 0; b < batches; b++) {
          const r = await s.write((tx) => tx.insertEvents(make(b)));
          expect(r.every(Boolean)).toBe(true);
        }
        const secs = Number(process.hrtime.bigint() - t) / 1e9;
        // eslint-disable-next-line no-console
        console.log(`PostgreSQL batched ingest (store.write + insertEvents + rollups): ${batches * 1000} events in ${secs.toFixed(2)} s = ${Math.round((batches * 1000) / secs)} events/s`);
        expect((await s.queryEvents({}, { limit: 1, cursor: null, order: 'desc' })).total).toBe(before + batches * 1000);
        // Streaming crosses several FETCH batches and sees every row once, in order.
        let n = 0;
        let last = Infinity;
        for await (const e of s.streamEvents({}, 'desc')) {
          expect(e.time).toBeLessThanOrEqual(last);
          last = e.time;
          n++;
        }
        expect(n).toBe(before + batches * 1000);
      } finally {
        await s.close();
      }
    });
  });
});
