#!/usr/bin/env node
// P8: PostgreSQL scale-out. `node bench/p8-postgres.mjs [--quick] [--seconds N] [--rounds N]
// [--connections N] [--main another build's collector/dist/main.js, to compare builds]`, or through the runner (`npm run bench -- --pg`), which imports runP8().
// `--check`: the /v1/check phase alone; `--ingest`: the ingest rounds and the COPY alone. `--profile DIR`: the replicas' CPU profiles.
// `--varied`: every request carries other users and addresses (the default sends one body again and again).
// `--haproxy-log FILE`: HAProxy's per-request log of the check phase (Tq/Tw/Tc/Tr/Ta timers).
// `--count [--batches N] [--varied] [--explain MS] [--profile DIR] [--main collector/dist/main.js of another build]`: statements, server time, rows per table,
// key-lock hold time and collector CPU per batch (countBatch below).
// PostgreSQL: AUTHWATCH_TEST_PG (an admin URL), else a throwaway cluster started here (initdb +
// pg_ctl from /usr/lib/postgresql/*/bin, as the postgres user when run as root).
//
// Measured side by side, in rounds, because this machine is shared and absolute numbers drift:
//  - 1,000-event batches POSTed through HAProxy to 1 collector replica, then to 2 replicas, same
//    client, same connections, each on a fresh database: the ratio says whether a second replica
//    adds throughput or only contention.
//  - the events the 1-replica run stored, copied back out and loaded with a bare COPY into the
//    same table of a fresh database: what storing those rows costs PostgreSQL alone.
//  - /v1/check at a fixed 1,000 req/s through HAProxy to the 2 replicas, some users locked.
//  - hot keys (p8-hot-windows.mjs): a batch's cost as the detection windows it touches grow.
// Prints the P8 lines; returns figures { id, name, value, unit, target, pass, detail, line }.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startServer, runJsonProcess, cpuTicks, settle } from './lib/proc.mjs';
import { root, ensureBuilt, makeKeys, bearer, collectorMain } from './lib/collector.mjs';
import { batchBody, rng, userName, ipFor } from './lib/events.mjs';
import { WARMUP_S } from './p3-check.mjs';
import { hotWindows } from './p8-hot-windows.mjs';
import { admin, dbUrl } from './lib/pg.mjs';

const EVENT_COLUMNS = [
  'id', 'time', 'received_at', 'type', 'outcome', 'reason', 'user', 'user_id', 'email', 'session_id', 'ip',
  'user_agent', 'device', 'app_version', 'service', 'entry', 'attributes', 'actor', 'country', 'city',
  'latitude', 'longitude', 'asn', 'isp', 'browser', 'browser_version', 'os', 'os_version', 'device_type',
];

function fmt(n, d = 2) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(d);
}

// HAProxy as the scale-out tests run it (one configuration for both).
const { freePort, startHaproxy } = createRequire(import.meta.url)('../collector/test/helpers/haproxy-lb.js');

/** A throwaway PostgreSQL cluster, or null when no server binaries are installed. */
async function startPostgres(dir) {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const version = readdirSync(base).sort().pop();
  const bin = join(base, version, 'bin');
  const data = join(dir, 'pgdata');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd, args) => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(full[0], full[1], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  if (asRoot) {
    chmodSync(dir, 0o777);
    spawnSync('chown', ['postgres', dir]);
  }
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run('pg_ctl', ['-D', data, '-l', join(dir, 'pg.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
  };
}

/**
 * While fn runs: CPU used by the collectors, this database's PostgreSQL backends and HAProxy
 * (clock ticks, /proc), and how often a backend of this database waited on an advisory (key) lock
 * or another lock, sampled every 100 ms from pg_stat_activity.
 */
async function observe(adminUrl, dbName, procs, fn) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  const first = new Map();
  const last = new Map();
  const tick = (group, pid) => {
    const t = cpuTicks(pid);
    if (t === null) return;
    const k = `${group}:${pid}`;
    if (!first.has(k)) first.set(k, t);
    last.set(k, t);
  };
  const s = { samples: 0, writing: 0, advisory: 0, otherLock: 0 };
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const rows = (await c.query(`SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE datname = $1`, [dbName])).rows;
      s.samples++;
      for (const r of rows) {
        tick('postgres', r.pid);
        if (r.state !== 'active' && r.state !== 'idle in transaction') continue;
        if (/LISTEN/.test(r.query)) continue;
        s.writing++;
        if (r.wait_event_type === 'Lock' && r.wait_event === 'advisory') s.advisory++;
        else if (r.wait_event_type === 'Lock') s.otherLock++;
      }
      for (const [group, pid] of procs) tick(group, pid);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  for (const [group, pid] of procs) tick(group, pid);
  try {
    return { result: await fn(), ...summary() };
  } finally {
    stop = true;
    await loop;
    await c.end();
  }
  function summary() {
    for (const [group, pid] of procs) tick(group, pid);
    const cpu = {};
    for (const [k, t] of last) {
      const group = k.split(':')[0];
      cpu[group] = (cpu[group] ?? 0) + (t - first.get(k)) / 100; // 100 ticks/s
    }
    return { cpu_s: cpu, locks: { ...s } };
  }
}

/** The i-th body of --varied traffic (ingest rounds and --count alike): other users and addresses each. */
const variedBody = (i) => batchBody(1000, 1000 + i);

export async function runP8(options = {}) {
  const quick = options.quick ?? false;
  // Full runs: three 10 s rounds. Single 4 s rounds (~20 requests each) ranged 0.76–1.12x in one hour.
  const seconds = options.seconds ?? (quick ? 3 : 10);
  const rounds = options.rounds ?? (quick ? 1 : 3);
  const connections = options.connections ?? 4;
  const log = options.log ?? ((m) => console.log(`  · ${m}`));
  const tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-p8-'));
  const owned = [];
  const databases = [];
  let cluster = null;
  const figures = [];
  try {
    let adminUrl = process.env.AUTHWATCH_TEST_PG;
    if (!adminUrl) {
      cluster = await startPostgres(tmp);
      if (!cluster) {
        const line = 'P8 skipped: no PostgreSQL (set AUTHWATCH_TEST_PG or install the postgresql server package)';
        figures.push({ id: 'P8', name: 'PostgreSQL batched ingest scale-out', value: null, pass: null, line });
        return figures;
      }
      adminUrl = cluster.url;
      log(`started a throwaway PostgreSQL at ${adminUrl}`);
    }
    ensureBuilt();
    const keys = makeKeys();
    const ingestH = { 'content-type': 'application/json', ...bearer(keys.ingest) };
    const batchFile = join(tmp, 'batch.json');
    writeFileSync(batchFile, batchBody(1000, 42));
    // --varied: each request its own users and addresses (100 bodies, seeds 1000–1099) instead of
    // one body sent again and again, whose every request touches the same 1,000 users and addresses.
    const variedFile = options.varied ? join(tmp, 'batches.json') : null;
    if (variedFile) writeFileSync(variedFile, JSON.stringify(Array.from({ length: 100 }, (_, i) => variedBody(i))));
    const warmBody = batchBody(1000, 7);
    const freshDb = async (tag) => {
      const name = `authwatch_p8_${process.pid}_${databases.length}_${tag}`;
      await admin(adminUrl, `CREATE DATABASE ${name}`);
      databases.push(name);
      return dbUrl(adminUrl, name);
    };
    const startReplicas = async (n, store) => {
      const rs = [];
      for (let i = 0; i < n; i++) {
        const prof = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];
        const r = await startServer([...prof, options.main ?? collectorMain(), '--no-demo'], {
          cwd: root,
          name: `collector replica ${i + 1}`,
          env: {
            AUTHWATCH_HOST: '127.0.0.1',
            AUTHWATCH_PORT: '0',
            AUTHWATCH_STORE: store,
            AUTHWATCH_DEMO: '0',
            AUTHWATCH_INGEST_KEYS: keys.ingest,
            AUTHWATCH_READ_KEYS: keys.read,
            AUTHWATCH_ADMIN_KEYS: keys.admin,
          },
        });
        owned.push(r);
        rs.push(r);
      }
      const lb = await startHaproxy(rs.map((r) => new URL(r.url).host), { log: Boolean(options.haproxyLog) });
      owned.push(lb);
      // Warm-up, not measured: the first batches load the geo and user-agent tables and JIT.
      for (const r of rs) {
        for (let i = 0; i < 2; i++) {
          const body = warmBody.replaceAll('[<id>]', `warm-${databases.length}-${r.pid}-${i}`);
          const res = await fetch(`${r.url}/v1/events`, { method: 'POST', headers: ingestH, body });
          if (res.status !== 202) throw new Error(`warm-up batch: ${res.status} ${await res.text()}`);
        }
      }
      // Then idle: the warm-up's public addresses start each replica's ASN table build (sliced,
      // ~0.6 s of CPU plus its GC, once per process). Left running it fell into the measured
      // seconds, twice with two replicas.
      for (const r of rs) await settle(r.pid, 15000);
      return { replicas: rs, lb };
    };
    const stopAll = async () => {
      for (const s of owned.splice(0).reverse()) await s.stop();
    };
    const ingestObserved = async (t, db) => {
      const procs = [...t.replicas.map((r) => ['collectors', r.pid]), ['haproxy', t.lb.pid]];
      const o = await observe(adminUrl, new URL(db).pathname.slice(1), procs, () => ingest(t.lb.url));
      return { ...o.result, cpu_s: o.cpu_s, locks: o.locks };
    };
    const ingest = (url) =>
      runJsonProcess(
        [join(root, 'bench/load/cannon.mjs'), JSON.stringify({ url: `${url}/v1/events`, method: 'POST', ...(variedFile ? { bodiesFile: variedFile } : { bodyFile: batchFile }), uniqueIds: true, headers: ingestH, connections, duration: seconds, timeout: 30 })],
        { cwd: root, name: 'autocannon' },
      );

    const perRound = [];
    let copySource = null;
    for (let r = 0; r < (options.checkOnly || options.attemptOnly ? 0 : rounds); r++) {
      const one = await freshDb('one');
      let t = await startReplicas(1, one);
      const a = await ingestObserved(t, one);
      await stopAll();
      const two = await freshDb('two');
      t = await startReplicas(2, two);
      const b = await ingestObserved(t, two);
      await stopAll();
      const eps1 = (a.ok2xx * 1000) / a.duration_s;
      const eps2 = (b.ok2xx * 1000) / b.duration_s;
      perRound.push({ one: a, two: b, eps1, eps2 });
      const where = (x) =>
        `CPU s: collectors ${fmt(x.cpu_s.collectors ?? 0, 1)}, PostgreSQL ${fmt(x.cpu_s.postgres ?? 0, 1)}, HAProxy ${fmt(x.cpu_s.haproxy ?? 0, 1)}; ` +
        `writers waiting on a key lock in ${fmt((100 * x.locks.advisory) / Math.max(1, x.locks.writing), 0)}% of busy samples, on another lock ${fmt((100 * x.locks.otherLock) / Math.max(1, x.locks.writing), 0)}%`;
      log(`round ${r + 1}: 1 replica ${fmt(eps1)} events/s (p99 ${fmt(a.latency_ms.p99)} ms, ${JSON.stringify(a.statuses)}; ${where(a)})`);
      log(`round ${r + 1}: 2 replicas ${fmt(eps2)} events/s (p99 ${fmt(b.latency_ms.p99)} ms, ${JSON.stringify(b.statuses)}; ${where(b)})`);
      copySource = one;
    }

    // Bare COPY of the rows the 1-replica run stored, into the same (partitioned, indexed) table.
    if (!options.checkOnly && !options.attemptOnly) await ingestFigures();
    async function ingestFigures() {
    const src = new pg.Client({ connectionString: copySource });
    await src.connect();
    const cols = EVENT_COLUMNS.map((c) => `"${c}"`).join(', ');
    const rows = (await src.query(`SELECT count(*)::int AS n FROM events`)).rows[0].n;
    await src.end();
    const csv = join(tmp, 'events.csv');
    const psql = (url, cmd) => spawnSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtc', cmd], { encoding: 'utf8' });
    let r = psql(copySource, `\\copy (SELECT ${cols} FROM events) TO '${csv}' WITH (FORMAT csv)`);
    if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
    const target = await freshDb('copy');
    // Migrated exactly as the collector migrates (one replica started and stopped).
    await startReplicas(1, target);
    await stopAll();
    const copyRounds = [];
    for (let i = 0; i < Math.max(1, rounds); i++) {
      psql(target, 'TRUNCATE events');
      // Timed by psql around the COPY alone (its own start-up and connection are not counted).
      r = spawnSync('psql', [target, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', '\\timing on', '-c', `\\copy events (${cols}) FROM '${csv}' WITH (FORMAT csv)`], { encoding: 'utf8' });
      const m = /Time: ([\d.]+) ms/.exec(r.stdout);
      if (r.status !== 0 || !m) throw new Error(`COPY failed: ${r.stderr}${r.stdout}`);
      copyRounds.push(rows / (Number(m[1]) / 1000));
    }
    const copyRate = copyRounds.reduce((x, y) => x + y, 0) / copyRounds.length;

    const eps1 = perRound.reduce((n, x) => n + x.one.ok2xx * 1000, 0) / perRound.reduce((n, x) => n + x.one.duration_s, 0);
    const eps2 = perRound.reduce((n, x) => n + x.two.ok2xx * 1000, 0) / perRound.reduce((n, x) => n + x.two.duration_s, 0);
    const scale = eps2 / eps1;
    const ofCopy = eps1 / copyRate;
    const non2xx = perRound.reduce((n, x) => n + x.one.non2xx + x.two.non2xx + x.one.errors + x.two.errors, 0);
    figures.push({
      id: 'P8',
      name: 'PostgreSQL batched ingest: 2 replicas vs 1, 1 replica vs bare COPY',
      value: scale,
      unit: 'x',
      target: '2 replicas ≥ 1.0x of 1; 1 replica ≥ 0.3x of COPY',
      pass: scale >= 1.0 && ofCopy >= 0.3 && non2xx === 0,
      detail: {
        events_per_s_1: eps1,
        events_per_s_2: eps2,
        copy_rows_per_s: copyRate,
        rounds: perRound.map((x) => ({ one: x.eps1, two: x.eps2, cpu_s: [x.one.cpu_s, x.two.cpu_s], locks: [x.one.locks, x.two.locks] })),
        non2xx,
        loadavg: os.loadavg(),
      },
      line:
        `P8 PostgreSQL batched ingest: 2 replicas ${fmt(scale)}x of 1 replica (${fmt(eps2)} vs ${fmt(eps1)} events/s through HAProxy, 1,000/request${variedFile ? ', varied users' : ''}, ${connections} connections; ` +
        `rounds ${perRound.map((x) => fmt(x.eps2 / x.eps1)).join(' / ')}), 1 replica ${fmt(ofCopy)}x of bare COPY (${fmt(eps1)} vs ${fmt(copyRate)} rows/s, the same ${rows.toLocaleString('en-US')} rows into the same table); non-2xx ${non2xx}`,
    });
    }

    if (options.ingestOnly) return figures;
    if (!options.attemptOnly) await checkFigure();
    if (!options.checkOnly) await attemptFigure();
    if (!options.checkOnly && !options.attemptOnly) {
      log('hot keys: detection windows growing batch after batch (bench/p8-hot-windows.mjs)');
      figures.push(await hotWindows({ adminUrl, main: options.main, batches: quick ? 100 : 150 }));
    }
    return figures;

    // /v1/check with "attempt": true (what the client's guardLogin sends) through HAProxy to 2
    // replicas at 200 req/s while 1,000-event batches are ingested through it as fast as they
    // are taken. Judged against the client's default timeout (300 ms), after which a guarded
    // login goes ahead unchecked: our target, as for P3-attempt.
    async function attemptFigure() {
    const t = await startReplicas(2, await freshDb('attempt'));
    const bodies = Array.from({ length: 8000 }, (_, i) => ({ user: `p8a-${i}`, ip: `10.${(i >> 8) & 255}.${i & 255}.7`, attempt: true }));
    const bodiesFile = join(tmp, 'attempt-bodies.json');
    writeFileSync(bodiesFile, JSON.stringify(bodies));
    const [c, load] = await Promise.all([
      runJsonProcess(
        [join(root, 'bench/load/paced.mjs'), JSON.stringify({ url: t.lb.url, path: '/v1/check', headers: ingestH, bodiesFile, rate: 200, duration: seconds, warmup: WARMUP_S, connections: 64, countField: 'allowed' })],
        { cwd: root, name: 'paced client' },
      ),
      runJsonProcess(
        [join(root, 'bench/load/cannon.mjs'), JSON.stringify({ url: `${t.lb.url}/v1/events`, method: 'POST', bodyFile: batchFile, uniqueIds: true, headers: ingestH, connections: 2, duration: seconds + WARMUP_S, timeout: 30 })],
        { cwd: root, name: 'autocannon' },
      ),
    ]);
    await stopAll();
    const l = c.latency_ms;
    const eps = (load.ok2xx * 1000) / load.duration_s;
    figures.push({
      id: 'P8-attempt',
      name: '/v1/check with "attempt": true through HAProxy to 2 PostgreSQL replicas at 200 req/s during batched ingest',
      value: l.p99,
      unit: 'ms',
      target: "p99 ≤ 300 ms (the client's timeout)",
      pass: l.p99 !== null && l.p99 <= 300 && c.errors === 0 && Object.keys(c.statuses).every((x) => x === '200'),
      detail: { check: c, ingest_events_per_s: eps, ingest_statuses: load.statuses },
      line: `P8 /v1/check with attempt through HAProxy to 2 replicas during batched ingest: p99 ${fmt(l.p99, 1)} ms (p50 ${fmt(l.p50, 1)} ms, max ${fmt(l.max, 1)} ms, achieved ${fmt(c.achieved_rps)} req/s; answers ${JSON.stringify(c.body_field_counts)}, statuses ${JSON.stringify(c.statuses)}, errors ${c.errors}; meanwhile ${fmt(eps)} events/s ingested in 1,000-event batches, statuses ${JSON.stringify(load.statuses)})`,
    });
    }

    // /v1/check through HAProxy to 2 replicas at a fixed 1,000 req/s, some users locked.
    async function checkFigure() {
    const checkDb = await freshDb('check');
    const t = await startReplicas(2, checkDb);
    const locked = Array.from({ length: 40 }, (_, i) => `locked-user-${i}`);
    const failures = locked.flatMap((user) => Array.from({ length: 7 }, (_, k) => ({ id: `p8-lock-${user}-${k}`, type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip: '8.8.4.4' })));
    const lockRes = await fetch(`${t.lb.url}/v1/events`, { method: 'POST', headers: ingestH, body: JSON.stringify(failures) });
    const rand = rng(3);
    const bodies = Array.from({ length: 2000 }, (_, i) =>
      i % 20 === 0 ? { user: locked[(i / 20) % locked.length], ip: '8.8.4.4' } : { user: userName(Math.floor(rand() * 5000)), ip: ipFor(rand) },
    );
    const bodiesFile = join(tmp, 'check-bodies.json');
    writeFileSync(bodiesFile, JSON.stringify(bodies));
    // Warm-up, not measured, as for ingest: the check route's first thousand calls run cold code
    // (JIT), and on a busy machine the backlog they build lasted past the client's own warm-up.
    for (const r of t.replicas) {
      let next = 0;
      const worker = async () => {
        while (next < 1000) {
          const res = await fetch(`${r.url}/v1/check`, { method: 'POST', headers: ingestH, body: JSON.stringify(bodies[next++ % bodies.length]) });
          await res.text();
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    }
    // Then idle, as P3 waits for its collector: the lock batch's public address starts the ASN
    // table build (sliced, ~1 s of CPU, then its GC) in the replica that took it.
    for (const r of t.replicas) await settle(r.pid, 15000);
    const downs = () => (t.lb.output().match(/ is DOWN/g) ?? []).length;
    const downs0 = downs();
    const cpu0 = t.replicas.map((x) => cpuTicks(x.pid));
    const c = await runJsonProcess(
      [join(root, 'bench/load/paced.mjs'), JSON.stringify({ url: t.lb.url, path: '/v1/check', headers: bearer(keys.ingest), bodiesFile, rate: 1000, duration: seconds, warmup: WARMUP_S, connections: 32, countField: 'allowed' })],
      { cwd: root, name: 'paced client' },
    );
    // A replica the health check took out while the client ran: its requests waited for the other.
    c.replicas_down = downs() - downs0;
    if (options.haproxyLog) writeFileSync(options.haproxyLog, t.lb.output());
    c.replica_cpu_s = t.replicas.map((x, i) => (cpuTicks(x.pid) - cpu0[i]) / 100);
    await stopAll();
    const l = c.latency_ms;
    figures.push({
      id: 'P8-check',
      name: '/v1/check p99 through HAProxy to 2 PostgreSQL replicas at 1,000 req/s',
      value: l.p99,
      unit: 'ms',
      target: 'p99 ≤ 5 ms',
      pass: l.p99 !== null && l.p99 <= 5 && c.errors === 0,
      detail: c,
      line: `P8 /v1/check through HAProxy to 2 replicas at ${c.rate} req/s (achieved ${fmt(c.achieved_rps)}): p50 ${fmt(l.p50, 3)} ms, p99 ${fmt(l.p99, 3)} ms, max ${fmt(l.max, 1)} ms; answers ${JSON.stringify(c.body_field_counts)} (${lockRes.status} locking 40 users), statuses ${JSON.stringify(c.statuses)}, errors ${c.errors}; stalls ${c.stalls.count} (worst ${fmt(c.stalls.worst_ms, 1)} ms), replicas marked down ${c.replicas_down}, replica CPU s ${c.replica_cpu_s.map((x) => fmt(x, 1)).join(' + ')}`,
    });
    }
  } finally {
    for (const s of owned.splice(0).reverse()) await s.stop().catch(() => undefined);
    if (process.env.AUTHWATCH_TEST_PG || cluster) {
      const url = process.env.AUTHWATCH_TEST_PG ?? cluster.url;
      for (const name of databases) await admin(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    }
    if (cluster) cluster.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * `--count`: what one 1,000-event batch costs, counted rather than timed (the machine is shared).
 * One collector on a fresh database, the statement-counting shim preloaded
 * (collector/test/helpers/pg-count-shim.cjs); after a warm-up, `batches` batches of the P8 body are
 * posted one at a time (each its own group commit). Per batch: statements by kind and their
 * round-trip ms as the collector saw them, the database's server time (pg_stat_database
 * active_time, read after its backends' stats are flushed), blocks touched, and collector CPU.
 */
export async function countBatch(options = {}) {
  const adminUrl = options.adminUrl ?? process.env.AUTHWATCH_TEST_PG;
  if (!adminUrl) throw new Error('--count needs AUTHWATCH_TEST_PG');
  const batches = options.batches ?? 5;
  ensureBuilt();
  const tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-p8count-'));
  const name = `authwatch_p8count_${process.pid}`;
  await admin(adminUrl, `CREATE DATABASE ${name}`);
  if (options.explain) {
    // Plans of the statements slower than `explain` ms, with their row counts, into the server log.
    await admin(adminUrl, `ALTER DATABASE ${name} SET session_preload_libraries = 'auto_explain'`);
    await admin(adminUrl, `ALTER DATABASE ${name} SET auto_explain.log_min_duration = ${Number(options.explain)}`);
    await admin(adminUrl, `ALTER DATABASE ${name} SET auto_explain.log_analyze = on`);
  }
  const url = dbUrl(adminUrl, name);
  const keys = makeKeys();
  const countFile = join(tmp, 'counts.json');
  let server;
  try {
    const prof = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];
    server = await startServer([...prof, options.main ?? collectorMain(), '--no-demo'], {
      cwd: root,
      name: 'collector',
      env: {
        AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: url, AUTHWATCH_DEMO: '0',
        AUTHWATCH_INGEST_KEYS: keys.ingest, AUTHWATCH_READ_KEYS: keys.read, AUTHWATCH_ADMIN_KEYS: keys.admin,
        NODE_OPTIONS: `--require ${join(root, 'collector/test/helpers/pg-count-shim.cjs')}`,
        AUTHWATCH_PG_COUNT_FILE: countFile,
      },
    });
    const h = { 'content-type': 'application/json', ...bearer(keys.ingest) };
    const post = async (body, id) => {
      const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: h, body: body.replaceAll('[<id>]', id) });
      if (res.status !== 202) throw new Error(`batch: ${res.status} ${await res.text()}`);
    };
    const dump = async () => {
      const before = existsSync(countFile) ? readFileSync(countFile, 'utf8') : '';
      process.kill(server.pid, 'SIGUSR2');
      for (let i = 0; i < 200; i++) {
        const now = existsSync(countFile) ? readFileSync(countFile, 'utf8') : '';
        if (now && now !== before) return JSON.parse(now);
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the counting shim did not answer');
    };
    // Backends flush their statistics when idle, at most every 10 s: wait that out around the run.
    const stats = async () => {
      await new Promise((r) => setTimeout(r, 11_000));
      const db = (await admin(adminUrl, `SELECT active_time, xact_commit, blks_hit, blks_read, tup_inserted, tup_updated, tup_deleted, tup_fetched FROM pg_stat_database WHERE datname = '${name}'`)).rows[0];
      // Rows written per table (partitions of events summed), to see which table a batch's time goes to.
      const tables = (await admin(url, `SELECT regexp_replace(relname, '^events_p[0-9]+$', 'events') AS t, sum(n_tup_ins)::int AS ins, sum(n_tup_upd)::int AS upd, sum(n_tup_hot_upd)::int AS hot, sum(n_tup_del)::int AS del FROM pg_stat_user_tables GROUP BY 1`)).rows;
      return { ...db, tables: Object.fromEntries(tables.map((r) => [r.t, r])) };
    };
    const warm = batchBody(1000, 7);
    for (let i = 0; i < 3; i++) await post(warm, `warm-${i}`);
    const body = batchBody(1000, 42);
    await post(body, 'first'); // the P8 body's keys exist from here on, as in the timed runs
    await dump();
    const s0 = await stats();
    const cpu0 = cpuTicks(server.pid);
    for (let i = 0; i < batches; i++) await post(options.varied ? variedBody(i) : body, `b${i}`);
    const cpu1 = cpuTicks(server.pid);
    const { rows, key_locks_held: held } = await dump();
    const s1 = await stats();
    const per = (x) => Math.round((x / batches) * 100) / 100;
    const statements = rows.map((r) => ({ statement: r.statement, per_batch: per(r.n), ms_per_batch: per(r.ms) }));
    const d = (k) => per(Number(s1[k]) - Number(s0[k]));
    return {
      batches,
      statements,
      statements_per_batch: per(rows.reduce((n, r) => n + r.n, 0)),
      roundtrip_ms_per_batch: per(rows.reduce((n, r) => n + r.ms, 0)),
      server_active_ms_per_batch: d('active_time'),
      // From the key locks' grant to COMMIT's answer: what another writer of the same keys waits.
      key_locks_held_ms_per_batch: held ? per(held.ms) : null,
      server: { xact_commit: d('xact_commit'), blks_hit: d('blks_hit'), blks_read: d('blks_read'), tup_inserted: d('tup_inserted'), tup_updated: d('tup_updated'), tup_deleted: d('tup_deleted'), tup_fetched: d('tup_fetched') },
      rows_per_batch: Object.fromEntries(
        Object.entries(s1.tables)
          .map(([t, r]) => {
            const b = s0.tables[t] ?? { ins: 0, upd: 0, hot: 0, del: 0 };
            return [t, { inserted: per(r.ins - b.ins), updated: per(r.upd - b.upd), in_place: per(r.hot - b.hot), deleted: per(r.del - b.del) }];
          })
          .filter(([, r]) => r.inserted || r.updated || r.deleted),
      ),
      collector_cpu_ms_per_batch: per((cpu1 - cpu0) * 10),
      loadavg: os.loadavg(),
    };
  } finally {
    await server?.stop().catch(() => undefined);
    await admin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const num = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  if (argv.includes('--count')) {
    console.log(JSON.stringify(await countBatch({ batches: num('--batches'), varied: argv.includes('--varied'), explain: num('--explain'), profile: argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : undefined, main: argv.includes('--main') ? argv[argv.indexOf('--main') + 1] : undefined }), null, 2));
    process.exit(0);
  }
  const figures = await runP8({ main: argv.includes('--main') ? argv[argv.indexOf('--main') + 1] : undefined, checkOnly: argv.includes('--check'), attemptOnly: argv.includes('--attempt'), ingestOnly: argv.includes('--ingest'), haproxyLog: argv.includes('--haproxy-log') ? argv[argv.indexOf('--haproxy-log') + 1] : undefined, profile: argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : undefined, quick: argv.includes('--quick'), varied: argv.includes('--varied'), seconds: num('--seconds'), rounds: num('--rounds'), connections: num('--connections') });
  for (const f of figures) {
    const verdict = f.pass === null ? '' : f.pass ? '  PASS' : '  MISS';
    console.log(`${f.line}${verdict}${f.target ? ` (target ${f.target})` : ''}`);
  }
}
