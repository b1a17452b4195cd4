// The shared runner of `npm run bench`: options, the processes a figure starts (tracked, killed by
// PID at the end), the load clients, the shared ingest collector, and the figure lines. Each
// figure lives in its own file (bench/p1-ingest.mjs …) exporting `ids` and `run(bench)`; a figure
// is { id, name, value, unit, target, pass, detail, line } and prints as
// "<line>  PASS|MISS (target …)". bench/run.mjs runs the files in order and prints the summary.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { startServer, runJsonProcess, rssMiB, peakRssMiB, settle } from './proc.mjs';
import { root, ensureBuilt, makeKeys, bearer, collectorMain } from './collector.mjs';
import { batchBody, makeEvent, rng } from './events.mjs';
import { collectorPragmas, describeEvents } from './store-schema.mjs';
import { monotonicMicros, summarise } from './cpuprofile.mjs';
import { byKind, loopStalls } from './loop-report.mjs';

/** The order of the summary: the issue's lines. */
export const ORDER = ['P1', 'P2', 'P2b', 'P3', 'P3-load', 'P3-attempt', 'P3-export', 'P4', 'P5', 'P6', 'P8'];

export function fmt(n, d = 2) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(d);
}

export const USAGE = `npm run bench [-- --quick] [--only P1,P3,…] [--sizes 1000000,…] [--connections N] [--profile] [--trace-loop] [--fresh] [--pg] [--keep]
  --quick        shorter rounds; P4 at 100k and 1M events (the full run: 1M and 10M)
  --only LIST    only these figures (P1 P2 P3 P3-export P4 P5 P6 P8); results go to /tmp
  --sizes LIST   P4 store sizes instead of the mode's
  --connections  P1's concurrent clients (default 10)
  --profile      node --cpu-prof on the collectors; prints the top functions per load phase
  --trace-loop   every event-loop stall > 5 ms of the collectors, with its on-CPU time and, with
                 --profile, what ran (bench/lib/loop-trace.cjs); AUTHWATCH_LOOP_TRACE_NICE=-10
                 lessens the machine's other load
  --fresh        bulk-load P4 stores again instead of copying them from the cache
  --pg           also P8 (PostgreSQL scale-out, bench/p8-postgres.mjs)
  --keep         keep the temporary directory`;

export function parseBenchArgs(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'trace-loop': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      pg: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      only: { type: 'string' },
      sizes: { type: 'string' },
      connections: { type: 'string' },
    },
  });
  const list = (s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : null);
  const only = list(values.only);
  const sizes = list(values.sizes)?.map(Number);
  if (sizes?.some((n) => !Number.isSafeInteger(n) || n < 1000)) throw new Error(`--sizes: whole numbers ≥ 1000, got ${values.sizes}`);
  const connections = values.connections === undefined ? 10 : Number(values.connections);
  if (!Number.isInteger(connections) || connections < 1) throw new Error(`--connections: a whole number ≥ 1, got ${values.connections}`);
  return { ...values, only, sizes, connections, traceLoop: values['trace-loop'] };
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

export class Bench {
  constructor(opts) {
    this.opts = opts;
    this.quick = opts.quick;
    this.root = root;
    this.tmp = mkdtempSync(join(os.tmpdir(), 'authwatch-bench-'));
    this.started = [];
    this.figures = [];
    this.raw = {};
    /** Load phases on the monotonic clock, to cut the collectors' CPU profiles. */
    this.windows = {};
    /** Peak RSS of every collector process, recorded when it stops (P6). */
    this.rss = [];
    this.keys = makeKeys();
    this.ingestH = bearer(this.keys.ingest);
    this.readH = bearer(this.keys.read);
    this.profDir = join(this.tmp, 'profiles');
    this.loopDir = join(this.tmp, 'loop');
    this.t0 = Date.now();
    this.M = this.quick
      ? { rounds: 2, p1s: 3, p2sqlite: 3, p2s: 4, p2conn: 2, p3s: 5, p4sizes: [100_000, 1_000_000], p4repeat: 10, exportSize: 1_000_000, p5lines: 200_000 }
      : { rounds: 4, p1s: 8, p2sqlite: 6, p2s: 8, p2conn: 2, p3s: 30, p4sizes: [1_000_000, 10_000_000], p4repeat: 50, exportSize: 1_000_000, p5lines: 500_000 };
    this.M.p1conn = opts.connections;
    if (opts.sizes) this.M.p4sizes = opts.sizes;
  }

  want(id) {
    return !this.opts.only || this.opts.only.includes(id);
  }

  log(msg) {
    console.log(`  · ${msg}`);
  }

  /** Prints a figure line as soon as it is measured (the summary repeats them in order). */
  figure(f) {
    this.figures.push(f);
    console.log(lineOf(f));
  }

  async start(args, name, env = {}) {
    const s = await startServer(args, { cwd: root, name, env });
    s.name = name;
    this.started.push(s);
    return s;
  }

  async stop(s) {
    const peak = peakRssMiB(s.pid);
    if (s.collector && peak !== null) this.rss.push({ name: s.name, peak_mib: peak, rss_mib: rssMiB(s.pid) });
    await s.stop();
    this.started.splice(this.started.indexOf(s), 1);
  }

  /** A collector process on a SQLite file (its own keys, loopback, port 0, no demo). */
  async startCollector(name, dbFile, env = {}) {
    const nodeArgs = this.opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${this.profDir}`] : [];
    if (this.opts.traceLoop) {
      mkdirSync(this.loopDir, { recursive: true });
      nodeArgs.push(`--require=${join(root, 'bench/lib/loop-trace.cjs')}`);
      env = { AUTHWATCH_LOOP_TRACE: this.loopDir, ...env };
    }
    const c = await this.start([...nodeArgs, collectorMain(), '--no-demo'], name, {
      AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dbFile}`, AUTHWATCH_DEMO: '0',
      AUTHWATCH_INGEST_KEYS: this.keys.ingest, AUTHWATCH_READ_KEYS: this.keys.read, AUTHWATCH_ADMIN_KEYS: this.keys.admin,
      ...env,
    });
    c.collector = true;
    c.dbFile = dbFile;
    return c;
  }

  runJson(script, opts, name) {
    return runJsonProcess([join(root, script), JSON.stringify(opts)], { cwd: root, name });
  }

  cannon(opts) {
    return this.runJson('bench/load/cannon.mjs', opts, 'autocannon');
  }

  paced(opts) {
    return this.runJson('bench/load/paced.mjs', opts, 'paced client');
  }

  /** Runs fn as a named load phase (for --profile). */
  async phase(name, fn) {
    const from = monotonicMicros();
    try {
      return await fn();
    } finally {
      (this.windows[name] ??= []).push({ from, to: monotonicMicros() });
    }
  }

  post(url, path, body, headers = this.ingestH) {
    return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  }

  /** Build, machine, the collector's schema (a file it created) and the request bodies. */
  async setup() {
    ensureBuilt();
    this.machine = machine();
    console.log(`authwatch bench (${this.quick ? 'quick' : 'full'}) — ${new Date().toISOString()}`);
    console.log(`machine: ${this.machine.cores} × ${this.machine.cpu}, load ${this.machine.loadavg_at_start.join(' ')}, node ${this.machine.node}, commit ${this.machine.commit}`);
    this.templateDb = join(this.tmp, 'template.db');
    const c = await this.startCollector('collector (schema)', this.templateDb);
    await c.stop();
    this.started.splice(this.started.indexOf(c), 1);
    // Fold the WAL into the main file: the baselines copy only template.db.
    const db = new Database(this.templateDb);
    db.pragma('wal_checkpoint(TRUNCATE)');
    this.schema = describeEvents(db);
    db.close();
    this.pragmas = collectorPragmas(root);
    this.raw.schema = { table: this.schema.table, columns: this.schema.columns.length, indexes: this.schema.indexes.map((i) => i.name), pragmas: this.pragmas };
    console.log(
      `collector schema: ${this.schema.columns.length} event columns, indexes [${this.raw.schema.indexes.join(', ')}]; write-connection pragmas (from collector/dist, applied to the SQLite baselines): ${Object.entries(this.pragmas.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    );
    this.files = {
      batch: join(this.tmp, 'batch-1000.json'),
      plainBatch: join(this.tmp, 'batch-1000-plain.json'),
    };
    writeFileSync(this.files.batch, batchBody(1000, 11));
    writeFileSync(this.files.plainBatch, batchBody(1000, 11, 'x'));
    this.singleBody = JSON.stringify(makeEvent(rng(7), { id: '[<id>]' }));
  }

  /** The ingest collector P1, P2, P3 and P6 share, warmed up once. */
  async mainCollector() {
    if (this.main) return this.main;
    const dbFile = join(this.tmp, 'main.db');
    const c = await this.startCollector('ingest collector (P1–P3)', dbFile);
    this.log(`collector pid ${c.pid} at ${c.url}, store ${dbFile}`);
    // Steady state, not first use: the ASN tables load on the first public address (~1 s) and the
    // ingest path compiles on the first requests; one warm-up batch pays for both.
    const rand = rng(17);
    const warm = Array.from({ length: 500 }, (_, k) => makeEvent(rand, { id: `warmup-${k}` }));
    const t = performance.now();
    const r = await this.post(c.url, '/v1/events', warm);
    this.log(`warm-up batch of 500 events: ${r.status} in ${fmt(performance.now() - t, 0)} ms`);
    await settle(c.pid, 10000);
    this.main = c;
    return c;
  }

  async stopMain() {
    if (!this.main) return;
    await this.stop(this.main);
    this.main = null;
  }

  /** Prints the figures in the issue's order, the profile, and writes the results file. */
  finish() {
    const rank = (id) => {
      const i = ORDER.indexOf(id.split('@')[0]);
      return i < 0 ? ORDER.length : i;
    };
    const sorted = [...this.figures].sort((a, b) => rank(a.id) - rank(b.id) || (a.size ?? 0) - (b.size ?? 0));
    console.log('\nsummary:');
    for (const f of sorted) console.log(lineOf(f));
    if (this.opts.profile) this.printProfile();
    if (this.opts.traceLoop) this.printLoopTrace();
    const result = {
      date: new Date().toISOString(),
      mode: this.quick ? 'quick' : 'full',
      seconds: (Date.now() - this.t0) / 1000,
      machine: { ...this.machine, loadavg_at_end: os.loadavg().map((n) => Number(n.toFixed(2))) },
      figures: sorted,
      raw: this.raw,
    };
    // Only a complete run replaces the committed figures; partial runs go to /tmp.
    const partial = this.opts.only || this.opts.sizes;
    const outFile = partial ? join(os.tmpdir(), 'authwatch-bench-partial.json') : join(root, 'bench/results/latest.json');
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
    console.log(`\n${sorted.filter((f) => f.pass === true).length} PASS, ${sorted.filter((f) => f.pass === false).length} MISS in ${fmt(result.seconds, 0)} s → ${outFile.replace(root + '/', '')}`);
  }

  printProfile() {
    this.raw.profile = {};
    // node --cpu-prof writes one file per thread: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile,
    // thread 0 being the event loop. A worker thread blocked in Atomics.wait is sampled as busy in
    // the waiting function, so the threads are summarised apart.
    const files = existsSync(this.profDir) ? readdirSync(this.profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    const threadOf = (f) => /\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] ?? '0';
    const groups = { 'event-loop thread': files.filter((f) => threadOf(f) === '0'), 'storage worker threads': files.filter((f) => threadOf(f) !== '0') };
    for (const [phase, w] of Object.entries(this.windows)) {
      for (const [who, list] of Object.entries(groups)) {
        if (!list.length) continue;
        const s = summarise(list.map((f) => JSON.parse(readFileSync(join(this.profDir, f), 'utf8'))), 20, w);
        (this.raw.profile[phase] ??= {})[who] = s;
        this.printSummary(`${phase}, ${who}`, s);
      }
    }
  }

  printLoopTrace() {
    this.raw.loop = {};
    for (const [phase, w] of Object.entries(this.windows)) {
      for (const proc of loopStalls(this.loopDir, this.profDir, w)) {
        if (!proc.stalls.length && !proc.gcs.length) continue;
        // Own long tasks: > 5 ms on a CPU with at most 2 requests arriving meanwhile (more: a backlog).
        const own = proc.stalls.filter((s) => s.cpu_ms > 5 && s.requests <= 2);
        const kinds = byKind(own);
        (this.raw.loop[phase] ??= []).push({ pid: proc.pid, kinds, stalls: proc.stalls });
        const gcMax = proc.gcs.reduce((a, g) => Math.max(a, g.ms), 0);
        console.log(`\nevent-loop stalls > 5 ms under ${phase} (collector pid ${proc.pid}): ${proc.stalls.length}, max ${fmt(Math.max(0, ...proc.stalls.map((s) => s.wall_ms)), 1)} ms wall; ${own.length} with > 5 ms on CPU and ≤ 2 requests (listed), ${proc.stalls.filter((s) => s.cpu_ms > 5 && s.requests > 2).length} backlogs of > 2 requests; GC pauses ${proc.gcs.length}, max ${fmt(gcMax, 1)} ms; heap used ${fmt(proc.heap.heapUsed / 2 ** 20, 0)} MiB at exit`);
        for (const k of kinds) console.log(`  ${String(k.count).padStart(4)} × max ${fmt(k.max_wall_ms, 1)} ms wall / ${fmt(k.max_cpu_ms, 1)} ms on CPU  ${k.kind}\n         ${k.stack}`);
      }
    }
  }

  printSummary(title, s) {
    console.log(`\nCPU profile under ${title}: busy ${fmt(s.busy_ms, 0)} ms, idle ${fmt(s.idle_ms, 0)} ms; top self time:`);
    for (const f of s.top) console.log(`  ${fmt(f.self_pct, 1).padStart(5)}%  ${f.function}  ${f.location}`);
    console.log(`  by package: ${s.packages.slice(0, 8).map((p) => `${p.name} ${fmt(p.self_pct, 1)}%`).join(', ')}`);
    console.log('  collector functions by inclusive time:');
    for (const f of s.collector_inclusive.slice(0, 14)) console.log(`  ${fmt(f.total_pct, 1).padStart(5)}%  ${f.function}  ${f.location}`);
  }

  async cleanup() {
    for (const s of [...this.started].reverse()) await s.kill();
    if (this.opts.keep) console.log(`kept ${this.tmp}`);
    else rmSync(this.tmp, { recursive: true, force: true });
  }
}

export function lineOf(f) {
  const verdict = f.pass === null || f.pass === undefined ? '' : f.pass ? '  PASS' : '  MISS';
  return `${f.line}${verdict}${f.target ? ` (target ${f.target})` : ''}`;
}
