#!/usr/bin/env node
// P5: sshd auth.log ingest vs fail2ban-regex on the same generated file.
//   node bench/authlog-p5.mjs [--lines 200000]
// Ours: the built collector CLI, `--authlog FILE --once`, i.e. the full pipeline (parse → validate
// → enrich → sessions/lockout/detections → SQLite commit), timed by the collector from the first
// read to the last commit. Theirs: `fail2ban-regex FILE /etc/fail2ban/filter.d/sshd.conf`, timed
// by its own "[processed in N sec]". Both exclude their process start-up; both wall times are
// printed as well. No assertion: the figure is a ratio printed for the bench report.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { generateAuthLog } = require(join(root, 'collector/test/fixtures/authlog-generate.cjs'));
const FILTER = '/etc/fail2ban/filter.d/sshd.conf';

function fail2ban(file) {
  const t = performance.now();
  const r = spawnSync('fail2ban-regex', ['--print-no-missed', '--print-no-ignored', file, FILTER], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wall = (performance.now() - t) / 1000;
  if (r.error) throw new Error(`fail2ban-regex: ${r.error.message} (install the Debian package fail2ban)`);
  const secs = /\[processed in ([\d.]+) sec\]/.exec(r.stdout);
  const lines = /Lines:\s+(\d+) lines, \d+ ignored, (\d+) matched/.exec(r.stdout);
  if (!secs || !lines) throw new Error(`unexpected fail2ban-regex output:\n${r.stdout.slice(-1500)}${r.stderr}`);
  return { seconds: Number(secs[1]), wall, lines: Number(lines[1]), matched: Number(lines[2]) };
}

function collector(file, dir) {
  const main = join(root, 'collector/dist/main.js');
  if (!existsSync(main)) throw new Error('collector/dist/main.js is missing: npm run build -w @authwatch/collector');
  const t = performance.now();
  const r = spawnSync(process.execPath, [main, '--authlog', file, '--once', '--authlog-tz', 'UTC'], {
    encoding: 'utf8',
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
    env: { PATH: process.env.PATH, AUTHWATCH_STORE: `sqlite:${join(dir, 'p5.db')}`, AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_DEMO: '0' },
  });
  const wall = (performance.now() - t) / 1000;
  const m = /authlog: (\d+) lines, (\d+) events, (\d+) accepted, (\d+) duplicates, (\d+) rejected in ([\d.]+) s/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`collector --authlog --once failed (${r.status}):\n${r.stdout}${r.stderr.slice(-2000)}`);
  return { lines: Number(m[1]), events: Number(m[2]), accepted: Number(m[3]), duplicates: Number(m[4]), rejected: Number(m[5]), seconds: Number(m[6]), wall };
}

/** Runs both on the same generated file; returns the figures. */
export function runP5({ lines = 200_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-p5-'));
  try {
    const file = join(dir, 'auth.log');
    writeFileSync(file, generateAuthLog(lines).join('\n') + '\n');
    const theirs = fail2ban(file);
    const ours = collector(file, dir);
    const oursRate = ours.lines / ours.seconds;
    const theirRate = theirs.lines / theirs.seconds;
    return { lines, ratio: oursRate / theirRate, oursRate, theirRate, ours, theirs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const ids = ['P5'];

/** The P5 figure for the bench runner (bench/run.mjs). */
export async function run(b) {
  const r = runP5({ lines: b.M.p5lines });
  const n = (x) => Math.round(x).toLocaleString('en-US');
  b.raw.P5 = r;
  b.figure({
    id: 'P5', name: 'sshd auth.log ingest vs fail2ban-regex', value: r.ratio, unit: 'x', target: '≥ 5 (goal 20)', pass: r.ratio >= 5,
    line:
      `P5 sshd auth.log ingest: ${r.ratio.toFixed(2)}x of fail2ban-regex (${n(r.oursRate)} vs ${n(r.theirRate)} lines/s on the same ${r.lines.toLocaleString('en-US')} lines; ` +
      `${r.ours.accepted} events stored durably through the full pipeline in ${r.ours.seconds.toFixed(2)} s, fail2ban-regex matched ${r.theirs.matched} in ${r.theirs.seconds.toFixed(2)} s)`,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--lines');
  const r = runP5({ lines: i > 0 ? Number(process.argv[i + 1]) : 200_000 });
  const n = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`P5 sshd log ingest: ${r.ratio.toFixed(2)}x of fail2ban-regex (${n(r.oursRate)} vs ${n(r.theirRate)} lines/s)`);
  console.log(
    `   ${r.lines.toLocaleString('en-US')} lines; ours: ${r.ours.events} events (${r.ours.accepted} stored, ${r.ours.duplicates} duplicate logouts) in ${r.ours.seconds.toFixed(2)} s, wall ${r.ours.wall.toFixed(2)} s with start-up; ` +
      `fail2ban-regex: ${r.theirs.matched} matched in ${r.theirs.seconds.toFixed(2)} s, wall ${r.theirs.wall.toFixed(2)} s; target ≥ 20x`,
  );
}
