#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --only P1,P3] [-- --profile]`
// Benchmarks the real collector process against baselines measured in the same run, each in its
// own process, driven by separate load-client processes on loopback. Every figure is a ratio or
// a latency measured side by side, because this machine is shared and absolute numbers drift.
// Prints one line per figure with PASS/MISS and writes bench/results/latest.json.
import { execSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, rssMiB, peakRssMiB, runJsonProcess, settle } from './lib/proc.mjs';
import { root, ensureBuilt, makeKeys, bearer, collectorMain } from './lib/collector.mjs';
import { batchBody, makeEvent, rng, userName, ipFor } from './lib/events.mjs';
import { collectorPragmas, describeEvents } from './lib/store-schema.mjs';
import { summariseProfileDir, monotonicMicros } from './lib/cpuprofile.mjs';
import { findAuthLogSource, writeAuthLog, runFail2banRegex, runCollectorOnAuthLog } from './lib/authlog.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
const onlyArg = argv.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : argv[argv.indexOf(onlyArg) + 1]).split(',') : null;
const want = (id) => !only || only.includes(id);
const numArg = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : undefined;
};

const M = quick
  ? { rounds: 2, p1s: 3, p1conn: 10, p2sqlite: 3, p2s: 4, p2conn: 2, p3s: 5, p4sizes: [100_000, 1_000_000], p4repeat: 10 }
  : { rounds: 4, p1s: 8, p1conn: 10, p2sqlite: 6, p2s: 8, p2conn: 2, p3s: 30, p4sizes: [1_000_000, 10_000_000], p4repeat: 50 };

// --connections N: P1's concurrent clients (default 10); group commit amortises more with more.
M.p1conn = numArg('--connections') ?? M.p1conn;
// --sizes 10000000[,…]: P4 store sizes instead of the mode's.
{
  const i = argv.indexOf('--sizes');
  if (i >= 0) M.p4sizes = argv[i + 1].split(',').map(Number);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-bench-'));
const started = [];
const figures = [];
const raw = {};
// Load phases on the monotonic clock, to cut the collector's CPU profile into P1 / P2 / P3.
const windows = { P1: [], P2: [], P3: [] };
const t0 = Date.now();

function fmt(n, d = 2) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(d);
}
function figure(f) {
  figures.push(f);
  const verdict = f.pass === null ? '' : f.pass ? '  PASS' : '  MISS';
  console.log(`${f.line}${verdict}${f.target ? ` (target ${f.target})` : ''}`);
}
async function start(args, name, env) {
  const s = await startServer(args, { cwd: root, name, env });
  started.push(s);
  return s;
}
async function stop(s) {
  await s.stop();
  started.splice(started.indexOf(s), 1);
}
function cannon(opts) {
  return runJsonProcess([join(root, 'bench/load/cannon.mjs'), JSON.stringify(opts)], { cwd: root, name: 'autocannon' });
}
function log(msg) {
  console.log(`  · ${msg}`);
}

function machine() {
  const cpus = os.cpus();
  let commit = null;
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: root }).toString().trim();
  } catch {}
  return {
    cpu: cpus[0]?.model,
    cores: cpus.length,
    loadavg_at_start: os.loadavg().map((n) => Number(n.toFixed(2))),
    mem_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    commit,
  };
}

try {
  console.log(`authwatch bench (${quick ? 'quick' : 'full'}) — ${new Date().toISOString()}`);
  ensureBuilt();
  const info = machine();
  console.log(`machine: ${info.cores} × ${info.cpu}, load ${info.loadavg_at_start.join(' ')}, node ${info.node}, commit ${info.commit}`);
  const keys = makeKeys();
  const ingestH = bearer(keys.ingest);
  const readH = bearer(keys.read);

  // A database file created by the collector itself: the schema every baseline copies.
  const templateDb = join(tmp, 'template.db');
  {
    const c = await start([collectorMain(), '--no-demo'], 'collector (schema)', {
      AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${templateDb}`, AUTHWATCH_DEMO: '0',
      AUTHWATCH_INGEST_KEYS: keys.ingest, AUTHWATCH_READ_KEYS: keys.read, AUTHWATCH_ADMIN_KEYS: keys.admin,
    });
    await stop(c);
    // Fold any WAL into the main file: the baselines copy only template.db.
    const db = new Database(templateDb);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const pragmas = collectorPragmas(root);
  const schema = (() => {
    const db = new Database(templateDb, { readonly: true });
    try {
      return describeEvents(db);
    } finally {
      db.close();
    }
  })();
  raw.schema = { table: schema.table, columns: schema.columns.length, indexes: schema.indexes.map((i) => i.name), triggers: schema.triggers.map((t) => t.name), pragmas };
  console.log(`collector schema: table ${schema.table}, ${schema.columns.length} columns, indexes [${raw.schema.indexes.join(', ')}]; connection pragmas (applied to the SQLite baselines): ${Object.entries(pragmas.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`);

  const singleBody = JSON.stringify(makeEvent(rng(7), { id: '[<id>]' }));
  const batchFile = join(tmp, 'batch-1000.json');
  writeFileSync(batchFile, batchBody(1000, 11));
  const plainBatchFile = join(tmp, 'batch-1000-plain.json');
  writeFileSync(plainBatchFile, batchBody(1000, 11, 'x'));

  const profDir = join(tmp, 'profiles');
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const mainDb = join(tmp, 'main.db');
  const collector = await start([...nodeArgs, collectorMain(), '--no-demo'], 'collector', {
    AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${mainDb}`, AUTHWATCH_DEMO: '0',
    AUTHWATCH_INGEST_KEYS: keys.ingest, AUTHWATCH_READ_KEYS: keys.read, AUTHWATCH_ADMIN_KEYS: keys.admin,
  });
  log(`collector pid ${collector.pid} at ${collector.url}, store ${mainDb}`);
  // Steady state, not first use: the collector loads its ASN tables on the first public address
  // (~1 s) and JIT-compiles the ingest path on the first requests; one warm-up batch pays for both.
  {
    const rand = rng(17);
    const warm = Array.from({ length: 500 }, (_, k) => makeEvent(rand, { id: `warmup-${k}` }));
    const t = performance.now();
    const r = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...ingestH }, body: JSON.stringify(warm) });
    log(`warm-up batch of 500 events: ${r.status} in ${fmt(performance.now() - t, 0)} ms`);
    await settle(collector.pid, 10000);
  }

  // Baseline and collector alternate in short rounds (A B A B …) so that a burst of load from
  // elsewhere on this shared machine hits both sides; the ratio is of the summed throughput.
  // ---- P1: single-event ingest vs bare express echo ----
  if (want('P1')) {
    const load = (url, headers) =>
      cannon({
        url: `${url}/v1/events`, method: 'POST', body: singleBody, uniqueIds: true,
        headers: { 'content-type': 'application/json', ...headers },
        connections: M.p1conn, duration: M.p1s, warmup: { connections: M.p1conn, duration: 1 },
      });
    const ex = await start([join(root, 'bench/baselines/express-echo.mjs')], 'express-echo');
    const hs = await start([join(root, 'bench/baselines/http-echo.mjs')], 'http-echo');
    const rounds = [];
    for (let i = 0; i < M.rounds; i++) {
      const express = await load(ex.url, {});
      const from = monotonicMicros();
      rounds.push({ express, collector: await load(collector.url, ingestH) });
      windows.P1.push({ from, to: monotonicMicros() });
    }
    const hsR = await load(hs.url, {});
    await stop(ex);
    await stop(hs);
    // What the disk allows: durable (synchronous=FULL) one-row commits per second, bare SQLite.
    const commits = await runJsonProcess(
      [join(root, 'bench/baselines/sqlite-inserts.mjs'), JSON.stringify({ templateDb, dbFile: join(tmp, 'baseline-commits.db'), bodyFile: plainBatchFile, seconds: 2, batchSize: 1, pragmas: pragmas.settings })],
      { cwd: root, name: 'sqlite-commits' },
    );
    const sum = (k) => rounds.reduce((n, r) => n + r[k].ok2xx, 0) / rounds.reduce((n, r) => n + r[k].duration_s, 0);
    const rps = (r) => r.ok2xx / r.duration_s;
    const coRps = sum('collector');
    const exRps = sum('express');
    const ratio = coRps / exRps;
    const perRound = rounds.map((r) => fmt(rps(r.collector) / rps(r.express)));
    const non2xx = rounds.reduce((n, r) => n + r.collector.non2xx, 0);
    const errors = rounds.reduce((n, r) => n + r.collector.errors, 0);
    raw.P1 = { rounds, node_http: hsR, sqlite_single_row_commits: commits };
    figure({
      id: 'P1', name: 'single-event ingest vs bare express echo', value: ratio, unit: 'x', target: '≥ 0.8', pass: ratio >= 0.8,
      detail: { collector_rps: coRps, express_rps: exRps, node_http_rps: rps(hsR), sqlite_commits_per_s: commits.rows_per_s, per_round: perRound, collector_non2xx: non2xx, collector_errors: errors },
      line: `P1 single-event ingest (${M.p1conn} connections): ${fmt(ratio)}x of bare express (${fmt(coRps)} vs ${fmt(exRps)} req/s; rounds ${perRound.join(' / ')}; bare node:http ${fmt(rps(hsR))}; bare SQLite durable 1-row commits ${fmt(commits.rows_per_s)}/s; collector non-2xx ${non2xx}, errors ${errors})`,
    });
  }

  // ---- P2: batched ingest (1,000/request) through the full pipeline vs bare SQLite inserts ----
  if (want('P2')) {
    const rounds = [];
    for (let i = 0; i < M.rounds; i++) {
      const sqlite = await runJsonProcess(
        [join(root, 'bench/baselines/sqlite-inserts.mjs'), JSON.stringify({ templateDb, dbFile: join(tmp, `baseline-inserts-${i}.db`), bodyFile: plainBatchFile, seconds: M.p2sqlite, pragmas: pragmas.settings })],
        { cwd: root, name: 'sqlite-inserts' },
      );
      const from = monotonicMicros();
      const collectorR = await cannon({
        url: `${collector.url}/v1/events`, method: 'POST', bodyFile: batchFile, uniqueIds: true,
        headers: { 'content-type': 'application/json', ...ingestH },
        connections: M.p2conn, duration: M.p2s, timeout: 30,
      });
      windows.P2.push({ from, to: monotonicMicros() });
      rounds.push({ sqlite, collector: collectorR });
    }
    const eps = rounds.reduce((n, r) => n + r.collector.ok2xx * 1000, 0) / rounds.reduce((n, r) => n + r.collector.duration_s, 0);
    const base = rounds.reduce((n, r) => n + r.sqlite.rows, 0) / rounds.reduce((n, r) => n + r.sqlite.seconds, 0);
    const ratio = eps / base;
    const perRound = rounds.map((r) => fmt((r.collector.ok2xx * 1000) / r.collector.duration_s / r.sqlite.rows_per_s));
    const statuses = {};
    for (const r of rounds) for (const [k, v] of Object.entries(r.collector.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    const p99 = Math.max(...rounds.map((r) => r.collector.latency_ms.p99));
    raw.P2 = { rounds };
    figure({
      id: 'P2', name: 'batched ingest (1,000/request) vs bare better-sqlite3 inserts', value: ratio, unit: 'x', target: '≥ 0.3', pass: ratio >= 0.3,
      detail: { collector_events_per_s: eps, sqlite_rows_per_s: base, per_round: perRound, collector_p99_ms: p99, statuses },
      line: `P2 batched ingest: ${fmt(ratio)}x of bare SQLite inserts (${fmt(eps)} vs ${fmt(base)} events/s; rounds ${perRound.join(' / ')}; 1,000/request, p99 ${fmt(p99)} ms; statuses ${JSON.stringify(statuses)})`,
    });
  }

  // ---- P3: /v1/check latency at a fixed 1,000 req/s, some users locked ----
  if (want('P3')) {
    const busy = await settle(collector.pid);
    raw.settle_before_P3_ms = busy;
    log(`collector idle ${fmt(busy / 1000, 1)} s after the ingest load (work queued during P1/P2 finishing)`);
    const lockedUsers = Array.from({ length: 40 }, (_, i) => `locked-user-${i}`);
    const failures = lockedUsers.flatMap((user) =>
      Array.from({ length: 7 }, (_, k) => ({ type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip: '8.8.4.4', service: 'payment-portal', id: `p3-lock-${user}-${k}` })),
    );
    const lockRes = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...ingestH }, body: JSON.stringify(failures) });
    const probe = await fetch(`${collector.url}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json', ...ingestH }, body: JSON.stringify({ user: lockedUsers[0], ip: '8.8.4.4' }) });
    const probeBody = await probe.text();
    log(`locked ${lockedUsers.length} users with 7 failures each (${lockRes.status}); check(${lockedUsers[0]}) → ${probe.status} ${probeBody}`);
    const rand = rng(3);
    const bodies = Array.from({ length: 2000 }, (_, i) =>
      i % 20 === 0 ? { user: lockedUsers[(i / 20) % lockedUsers.length], ip: '8.8.4.4' } : { user: userName(Math.floor(rand() * 5000)), ip: ipFor(rand) },
    );
    const bodiesFile = join(tmp, 'check-bodies.json');
    writeFileSync(bodiesFile, JSON.stringify(bodies));
    const paced = (url, headers) =>
      runJsonProcess(
        [join(root, 'bench/load/paced.mjs'), JSON.stringify({ url, path: '/v1/check', headers, bodiesFile, rate: 1000, duration: M.p3s, warmup: 1, connections: 32, countField: 'allowed' })],
        { cwd: root, name: 'paced client' },
      );
    // The same client and rate against bare node:http: the latency floor of this machine right now.
    const hs = await start([join(root, 'bench/baselines/http-echo.mjs')], 'http-echo');
    const floor = await paced(hs.url, {});
    await stop(hs);
    const from = monotonicMicros();
    const r = await paced(collector.url, ingestH);
    windows.P3.push({ from, to: monotonicMicros() });
    raw.P3 = { ...r, lock_probe: { status: probe.status, body: probeBody }, bare_node_http: floor };
    const l = r.latency_ms;
    figure({
      id: 'P3', name: '/v1/check latency at 1,000 req/s', value: l.p99, unit: 'ms', target: 'p99 ≤ 2 ms', pass: l.p99 !== null && l.p99 <= 2 && r.errors === 0,
      detail: r,
      line: `P3 /v1/check at ${r.rate} req/s (achieved ${fmt(r.achieved_rps)}): p50 ${fmt(l.p50, 3)} ms, p99 ${fmt(l.p99, 3)} ms, max ${fmt(l.max, 1)} ms (service time p99 ${fmt(l.service_p99, 3)} ms; bare node:http same client p50 ${fmt(floor.latency_ms.p50, 3)} / p99 ${fmt(floor.latency_ms.p99, 3)} ms); ${r.stalls.count} stalls > 10 ms covering ${r.stalls.requests} requests (bare: ${floor.stalls.count}); answers ${JSON.stringify(r.body_field_counts)}, statuses ${JSON.stringify(r.statuses)}, errors ${r.errors}`,
    });
  }

  // ---- P6 (measured here, printed last): RSS of the ingest collector after P1–P3 ----
  const mainRss = rssMiB(collector.pid);
  const mainPeak = peakRssMiB(collector.pid);
  await stop(collector);
  {
    const db = new Database(mainDb, { readonly: true });
    raw.main_store = { events_rows: db.prepare(`SELECT count(*) AS n FROM "${schema.table}"`).get().n };
    db.close();
    log(`ingest collector stored ${raw.main_store.events_rows.toLocaleString('en-US')} events in total`);
  }

  // ---- P4: query latency with large stores ----
  if (want('P4')) {
    raw.P4 = {};
    for (const size of M.p4sizes) {
      const dbFile = join(tmp, `p4-${size}.db`);
      const load = await bulkLoaded(templateDb, dbFile, size);
      log(`bulk-loaded ${size.toLocaleString('en-US')} events (+ ${load.sessions.toLocaleString('en-US')} sessions, ${load.lockouts.toLocaleString('en-US')} lockouts${load.rollups?.length ? `, rollups ${load.rollups.join(', ')} rebuilt` : ''}) in ${fmt(load.total_s, 1)} s (rows ${fmt(load.insert_s, 1)} s, sessions/lockouts ${fmt(load.derive_s, 1)} s, indexes ${fmt(load.index_s, 1)} s)${load.cached ? ', copied from the bench cache' : ''}`);
      const c = await start([collectorMain(), '--no-demo'], `collector (P4 ${size})`, {
        AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dbFile}`, AUTHWATCH_DEMO: '0',
        AUTHWATCH_INGEST_KEYS: keys.ingest, AUTHWATCH_READ_KEYS: keys.read, AUTHWATCH_ADMIN_KEYS: keys.admin,
      });
      // Live traffic on top, so sessions and lockouts exist the way the pipeline makes them.
      const rand = rng(5);
      for (let b = 0; b < 10; b++) {
        const batch = Array.from({ length: 1000 }, (_, k) => makeEvent(rand, { id: `p4-live-${b}-${k}`, users: 2000 }));
        await fetch(`${c.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...ingestH }, body: JSON.stringify(batch) });
      }
      const now = Date.now();
      const queries = p4Queries(now);
      const r = await runJsonProcess([join(root, 'bench/load/queries.mjs'), JSON.stringify({ url: c.url, headers: readH, repeat: M.p4repeat, warm: quick ? 1 : 2, budgetMs: quick ? 8_000 : 60_000, queries })], { cwd: root, name: 'query client' });
      raw.P4[size] = { load, results: r.results, rss_mib: rssMiB(c.pid) };
      await stop(c);
      const worst = r.results.reduce((a, b) => (b.p95 > a.p95 ? b : a));
      const bad = r.results.filter((q) => Object.keys(q.statuses).some((s) => s !== '200'));
      figure({
        id: `P4@${size}`, name: `query p95 with ${size} stored events`, value: worst.p95, unit: 'ms', target: 'p95 ≤ 50 ms', pass: worst.p95 <= 50 && bad.length === 0,
        detail: r.results,
        line: `P4 queries with ${size.toLocaleString('en-US')} events, worst p95 per kind: ${families(r.results)}; worst ${fmt(worst.p95, 1)} ms (${worst.name})${bad.length ? `; non-200: ${bad.map((q) => `${q.name} ${JSON.stringify(q.statuses)}`).join(', ')}` : ''}`,
      });
      for (const q of r.results) {
        console.log(`     ${q.name.padEnd(22)} p50 ${fmt(q.p50, 1).padStart(7)} ms  p95 ${fmt(q.p95, 1).padStart(7)} ms  rows ${q.returned ?? '-'}${q.total !== null ? ` of ${q.total}` : ''}  ${q.runs} runs ${JSON.stringify(q.statuses)}`);
      }
      rmSync(dbFile, { force: true });
      rmSync(`${dbFile}-wal`, { force: true });
    }
  }

  // ---- P5: sshd auth.log ingest vs fail2ban-regex ----
  if (want('P5')) {
    const source = findAuthLogSource(dirname(collectorMain()));
    const lines = quick ? 50_000 : 500_000;
    const file = join(tmp, 'auth.log');
    writeAuthLog(file, lines);
    const f2b = runFail2banRegex(file);
    const f2bRate = f2b.lines / f2b.seconds;
    raw.P5 = { fail2ban: f2b, source };
    if (!source || !source.flag) {
      const why = !source ? 'no auth.log source yet' : 'auth.log source built but not on the collector command line yet';
      figure({ id: 'P5', name: 'auth.log ingest vs fail2ban-regex', value: null, pass: null, line: `P5 skipped: ${why} (fail2ban-regex baseline on ${lines.toLocaleString('en-US')} sshd lines: ${fmt(f2bRate)} lines/s, ${f2b.matched} matched)` });
    } else {
      try {
        const r = await runCollectorOnAuthLog({
          startServer: (args, o) => startServer(args, o), root, main: collectorMain(), file, dbFile: join(tmp, 'p5.db'), keys, flag: source.flag,
          countEvents: async (url) => {
            // A fresh store: every event in it came from the file (or was derived from one).
            const res = await fetch(`${url}/v1/events?limit=1`, { headers: readH });
            return ((await res.json()).total ?? 0);
          },
        });
        if (!r.events) throw new Error('it stored no events from the file');
        const rate = lines / r.seconds;
        const ratio = rate / f2bRate;
        raw.P5.collector = r;
        figure({
          id: 'P5', name: 'auth.log ingest vs fail2ban-regex', value: ratio, unit: 'x', target: '≥ 20', pass: ratio >= 20,
          line: `P5 sshd auth.log ingest: ${fmt(ratio)}x of fail2ban-regex (${fmt(rate)} vs ${fmt(f2bRate)} lines/s on the same ${lines.toLocaleString('en-US')} lines; collector stored ${r.events} events, fail2ban matched ${f2b.matched}; timed from listening until the event count stops growing, so ≤ 2 s of idle polling is not counted)`,
        });
      } catch (err) {
        figure({ id: 'P5', name: 'auth.log ingest vs fail2ban-regex', value: null, pass: false, line: `P5 failed: the collector's auth.log source (--${source.flag}) did not run: ${String(err.message ?? err).split('\n')[0]}` });
      }
    }
  }

  // ---- P6 ----
  figure({
    id: 'P6', name: 'collector RSS at the end of ingest', value: mainRss, unit: 'MiB', target: null, pass: null,
    line: `P6 collector RSS after P1–P3: ${fmt(mainRss, 1)} MiB (peak ${fmt(mainPeak, 1)} MiB)`,
  });

  if (profile) {
    raw.profile = {};
    for (const [phase, w] of Object.entries(windows)) {
      if (!w.length) continue;
      const s = summariseProfileDir(profDir, 20, w);
      raw.profile[phase] = s;
      console.log(`\nCPU profile of the collector under ${phase} load: busy ${fmt(s.busy_ms, 0)} ms, idle ${fmt(s.idle_ms, 0)} ms; top self time:`);
      for (const f of s.top) console.log(`  ${fmt(f.self_pct, 1).padStart(5)}%  ${f.function}  ${f.location}`);
      console.log(`  by package: ${s.packages.slice(0, 8).map((p) => `${p.name} ${fmt(p.self_pct, 1)}%`).join(', ')}`);
      console.log('  collector functions by inclusive time:');
      for (const f of s.collector_inclusive.slice(0, 14)) console.log(`  ${fmt(f.total_pct, 1).padStart(5)}%  ${f.function}  ${f.location}`);
    }
  }

  const result = { date: new Date().toISOString(), mode: quick ? 'quick' : 'full', seconds: (Date.now() - t0) / 1000, machine: { ...info, loadavg_at_end: os.loadavg().map((n) => Number(n.toFixed(2))) }, figures: figures.map(({ line, ...f }) => ({ ...f, line })), raw };
  // Only a complete run replaces the committed figures; partial runs (--only) go to /tmp.
  const outFile = only ? join(os.tmpdir(), 'authwatch-bench-partial.json') : join(root, 'bench/results/latest.json');
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  console.log(`\n${figures.filter((f) => f.pass === true).length} PASS, ${figures.filter((f) => f.pass === false).length} MISS in ${fmt(result.seconds, 0)} s → ${outFile.replace(root + '/', '')}`);
} catch (err) {
  console.error(`bench failed: ${err.stack ?? err}`);
  process.exitCode = 1;
} finally {
  for (const s of [...started]) await s.kill();
  if (!process.env.AUTHWATCH_BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
}

/**
 * A bulk-loaded store of `count` events at dbFile. Loaded stores are kept for 6 hours in
 * /tmp/authwatch-bench-cache (keyed by the collector's schema and the loader's source) and copied,
 * because loading 10M rows takes minutes; --fresh ignores the cache.
 */
async function bulkLoaded(templateDb, dbFile, count) {
  const schemaDb = new Database(templateDb, { readonly: true });
  const schemaSql = schemaDb.prepare("SELECT group_concat(sql, ';') FROM sqlite_master").pluck().get();
  schemaDb.close();
  const migrationsFile = join(root, 'collector/src/store/migrations/sqlite.ts');
  const key = createHash('sha256')
    .update(schemaSql)
    .update(readFileSync(join(root, 'bench/bulk-load.mjs')))
    .update(existsSync(migrationsFile) ? readFileSync(migrationsFile) : '')
    .update(String(count))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = join(os.tmpdir(), 'authwatch-bench-cache');
  const cached = join(cacheDir, `${key}-${count}.db`);
  const meta = `${cached}.json`;
  if (!argv.includes('--fresh') && existsSync(meta) && Date.now() - statSync(meta).mtimeMs < 6 * 3600_000) {
    copyFileSync(cached, dbFile);
    return { ...JSON.parse(readFileSync(meta, 'utf8')), cached: true };
  }
  const load = await runJsonProcess([join(root, 'bench/bulk-load.mjs'), JSON.stringify({ templateDb, dbFile, count, days: 30, migrationsFile: existsSync(migrationsFile) ? migrationsFile : null })], { cwd: root, name: 'bulk-load' });
  mkdirSync(cacheDir, { recursive: true });
  for (const f of readdirSync(cacheDir)) if (f.endsWith(`-${count}.db`) || f.endsWith(`-${count}.db.json`)) rmSync(join(cacheDir, f), { force: true });
  copyFileSync(dbFile, cached);
  writeFileSync(meta, JSON.stringify(load));
  return load;
}

/** "events 12 ms, events q= 3,500 ms, sessions 4 ms, …": worst p95 of each kind of query. */
function families(results) {
  const kind = (name) => (name === 'events text q' ? 'events q=' : name.split(' ')[0]);
  const worst = new Map();
  for (const q of results) worst.set(kind(q.name), Math.max(worst.get(kind(q.name)) ?? 0, q.p95));
  return [...worst].map(([k, v]) => `${k} ${fmt(v, 1)} ms`).join(', ');
}

/** The Grafana data source's queries: events (logs/table), sessions, lockouts, time series. */
function p4Queries(now) {
  const day = now - 86_400_000;
  const week = now - 7 * 86_400_000;
  return [
    { name: 'events latest 100', path: '/v1/events?limit=100' },
    { name: 'events last 24h', path: `/v1/events?from=${day}&to=${now}&limit=100` },
    { name: 'events user', path: `/v1/events?user=${userName(42)}&limit=100` },
    { name: 'events failures 24h', path: `/v1/events?type=login&outcome=failure&from=${day}&to=${now}&limit=100` },
    { name: 'events reason 7d', path: `/v1/events?reason=invalid_password&from=${week}&to=${now}&limit=100` },
    { name: 'events ip', path: '/v1/events?ip=8.8.4.4&limit=100' },
    { name: 'events text q', path: `/v1/events?q=${userName(4242)}&limit=100` },
    { name: 'sessions active', path: '/v1/sessions?state=active&limit=100' },
    { name: 'sessions user', path: `/v1/sessions?state=all&user=${userName(42)}&limit=100` },
    { name: 'lockouts locked', path: '/v1/lockouts?state=locked' },
    { name: 'lockouts all', path: '/v1/lockouts?state=all' },
    ...timeSeriesQueries(now),
  ];
}

// GET /v1/timeseries and /v1/stats (the core's routes behind the data source's time-series and
// stat query types): failures by reason / service / country, as the dashboards ask for them.
function timeSeriesQueries(now) {
  const day = now - 86_400_000;
  const week = now - 7 * 86_400_000;
  return [
    { name: 'timeseries reason 24h', path: `/v1/timeseries?type=login&outcome=failure&group_by=reason&from=${day}&to=${now}` },
    { name: 'timeseries country 7d', path: `/v1/timeseries?type=login&outcome=failure&group_by=country&from=${week}&to=${now}` },
    { name: 'timeseries service 30d', path: `/v1/timeseries?outcome=failure&group_by=service&from=${now - 30 * 86_400_000}&to=${now}` },
    { name: 'stats 24h', path: `/v1/stats?from=${day}&to=${now}` },
  ];
}
