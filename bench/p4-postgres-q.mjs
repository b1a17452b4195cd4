#!/usr/bin/env node
// P4 on PostgreSQL, free text only: `AUTHWATCH_TEST_PG=postgres://… node bench/p4-postgres-q.mjs [--events N]`.
// A fresh database (dropped at the end) through the built collector's store (collector/dist:
// `npm run build -w @authwatch/collector` first; --keep leaves it for EXPLAIN), N events (default 1,000,000) over 30 daily
// partitions, loaded with one INSERT … SELECT per day (the trigram index maintained as ingest
// maintains it), VACUUM ANALYZE as autovacuum would. Then GET /v1/events?q=…&limit=100 as the API
// runs it (store.queryEvents: the total and the first page) for a corpus of q values, one at a
// time, 5 rounds. Prints one line: p50/p95 over all, and p95 of selective and broad q apart.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { root, ensureBuilt } from './lib/collector.mjs';

const { values: args } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
const N = Number(args.events);
const admin = process.env.AUTHWATCH_TEST_PG;
if (!admin) {
  console.log('p4-postgres-q: skipped (AUTHWATCH_TEST_PG is not set)');
  process.exit(0);
}
ensureBuilt();
const { PostgresStore } = await import(`${root}/collector/dist/store/postgres.js`);
const { maintainPartitions } = await import(`${root}/collector/dist/store/postgres-partitions.js`);
const { postgresMigrations } = await import(`${root}/collector/dist/store/migrations/postgres.js`);
if (!postgresMigrations.some((m) => m.name === 'q_trigram')) throw new Error('collector/dist predates the q trigram index: npm run build -w @authwatch/collector');

const DAY = 86_400_000;
const DAYS = 30;
const name = `authwatch_bench_q_${process.pid}`;
const run = async (url, sql, params) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
};
const u = new URL(admin);
u.pathname = `/${name}`;
const url = u.toString();

await run(admin, `CREATE DATABASE ${name}`);
let store;
try {
  store = await PostgresStore.open(url);
  const today = Math.floor(Date.now() / DAY) * DAY;
  const first = today - (DAYS - 1) * DAY;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  for (let d = first; d < today; d += 3 * DAY) await maintainPartitions(pool, d);
  await pool.end();
  // Deterministic rows: 20,000 users (half with an e-mail), addresses, agents, reasons, services.
  const perDay = Math.ceil(N / DAYS);
  const t0 = Date.now();
  for (let day = 0; day < DAYS; day++) {
    const lo = day * perDay;
    const hi = Math.min(N, lo + perDay);
    if (lo >= hi) break;
    await run(
      url,
      `INSERT INTO events (id, "time", received_at, type, outcome, reason, "user", email, ip, user_agent, service)
       SELECT 'b' || i, $1::bigint + (i - $2) * ($3::bigint / ($4 - $2 + 1)), $1::bigint, 'login',
              CASE WHEN i % 3 = 0 THEN 'failure' ELSE 'success' END,
              (ARRAY['invalid_password', 'unknown_user', 'mfa_failed', NULL])[1 + i % 4],
              'user' || lpad(((i * 7919) % 20000)::text, 5, '0'),
              CASE WHEN i % 2 = 0 THEN 'user' || lpad(((i * 7919) % 20000)::text, 5, '0') || '@example.com' END,
              (ARRAY['8.8.', '81.2.', '2.125.', '126.0.', '177.37.'])[1 + i % 5] || ((i * 31) % 250 + 1) || '.' || ((i * 17) % 250 + 1),
              (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
                     'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
                     'PaymentPortal/5.2.1 (Android 13; SM-S911B)', 'curl/8.5.0'])[1 + (i / 7) % 4],
              (ARRAY['payment-portal', 'admin-console', 'mobile-api', 'sshd'])[1 + (i / 3) % 4]
         FROM generate_series($2::bigint, $4::bigint) AS i`,
      [first + day * DAY, lo, DAY, hi - 1],
    );
  }
  await run(url, 'VACUUM ANALYZE events');
  const loadMs = Date.now() - t0;

  // Selective: one user, an address, an e-mail, a value in two cases; broad: an agent, a reason.
  const selective = ['user04242', 'USER1234', 'user17', '8.8.31.17', 'user00077@example', '177.37.2', 'nobody-here', 'Payment-Portal@x'];
  const broad = ['firefox', 'INVALID_pass', 'mobile-api', 'ab', '8.8.'];
  const times = { selective: [], broad: [] };
  for (let round = 0; round < 5; round++) {
    for (const [kind, list] of Object.entries({ selective, broad })) {
      for (const q of list) {
        const t = process.hrtime.bigint();
        await store.queryEvents({ q }, { limit: 100, cursor: null, order: 'desc' });
        times[kind].push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
  }
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  };
  const all = [...times.selective, ...times.broad];
  const f = (ms) => `${ms < 100 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-US')} ms`;
  console.log(
    `P4-pg q: ${N.toLocaleString('en-US')} events / ${DAYS} partitions, GET /v1/events?q= (total + first 100) p50 ${f(pct(all, 50))}, p95 ${f(pct(all, 95))}; ` +
      `selective q p95 ${f(pct(times.selective, 95))}, broad q (≥ 20 % of events or < 3 letters) p95 ${f(pct(times.broad, 95))} (${all.length} queries; load ${Math.round(loadMs / 1000)} s)`,
  );
} finally {
  await store?.close();
  if (args.keep) console.log(`kept ${url.replace(/:[^:@/]*@/, ':***@')}`);
  else await run(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
