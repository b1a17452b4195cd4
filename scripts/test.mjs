#!/usr/bin/env node
// Runs every test suite in the repository and ends with one plain line: "N passed, N failed".
// Before it, the summary lists every skipped test file with the reason it printed and what would
// enable it (scripts/skip-reporter.cjs collects them). A local PostgreSQL server is found on its
// own (AUTHWATCH_TEST_PG is set for the suites when the default URL answers).
// Usage: npm test [-- suite ...]   (suite names below; default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jest = join(root, 'node_modules', '.bin', 'jest');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

// name, the config that must exist for the suite to run, and the command (jest flags appended).
const suites = [
  { name: 'wire', config: 'wire/jest.config.js', cmd: [jest, '-c', 'wire/jest.config.js'] },
  { name: 'collector', config: 'collector/jest.config.js', cmd: [jest, '-c', 'collector/jest.config.js'] },
  { name: 'client', config: 'client/jest.config.js', cmd: [jest, '-c', 'client/jest.config.js'] },
  { name: 'cli', config: 'cli/jest.config.js', cmd: [jest, '-c', 'cli/jest.config.js'] },
  { name: 'demo', config: 'demo/jest.config.js', cmd: [jest, '-c', 'demo/jest.config.js'] },
  { name: 'provisioning', config: 'provisioning/jest.config.js', cmd: [jest, '-c', 'provisioning/jest.config.js'] },
  { name: 'plugin', config: 'plugin/jest.config.js', cmd: ['npm', 'run', '--silent', 'test:ci', '-w', 'plugin', '--'] },
  { name: 'browser', config: 'plugin/harness/jest.config.js', cmd: ['npm', 'run', '--silent', 'test:browser', '-w', 'plugin', '--'] },
  { name: 'reliability', config: 'collector/jest.reliability.config.js', cmd: [jest, '-c', 'collector/jest.reliability.config.js'] },
  { name: 'bench', config: 'bench/jest.config.js', cmd: [jest, '-c', 'bench/jest.config.js'] },
];

// Static checks: each command is one result (typecheck and lint must stay clean).
const checks = [
  // No Node types: the wire package stays importable by the plugin's browser bundle.
  { name: 'typecheck wire', cmd: [tsc, '-p', 'wire/tsconfig.json', '--noEmit'] },
  { name: 'typecheck collector', cmd: [tsc, '-p', 'collector/tsconfig.json', '--noEmit'] },
  { name: 'typecheck client', cmd: [tsc, '-p', 'client/tsconfig.json', '--noEmit'] },
  { name: 'typecheck cli', cmd: [tsc, '-p', 'cli/tsconfig.json', '--noEmit'] },
  { name: 'typecheck demo', cmd: [tsc, '-p', 'demo/tsconfig.json', '--noEmit'] },
  { name: 'typecheck plugin', cmd: ['npm', 'run', '--silent', 'typecheck', '-w', 'plugin'] },
  { name: 'typecheck plugin harness', cmd: [tsc, '-p', 'plugin/harness/tsconfig.json', '--noEmit'] },
  { name: 'lint plugin', cmd: ['npm', 'run', '--silent', 'lint', '-w', 'plugin'] },
];

const wanted = process.argv.slice(2);
const outDir = join(root, '.ci', 'results');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const skipReport = join(outDir, 'skipped.jsonl');
process.env.AUTHWATCH_SKIP_REPORT = skipReport;
const skipReporter = join(root, 'scripts', 'skip-reporter.cjs');

// PostgreSQL: the suites read AUTHWATCH_TEST_PG; when it is unset, try the usual local server.
const PG_DEFAULT = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const pgNote = await findPostgres();
console.log(pgNote);

async function findPostgres() {
  if (process.env.AUTHWATCH_TEST_PG) return `PostgreSQL: AUTHWATCH_TEST_PG is set; the PostgreSQL suites use it`;
  let pg;
  try {
    pg = createRequire(join(root, 'collector', 'package.json'))('pg');
  } catch {
    return 'PostgreSQL: the pg package is not installed (npm ci); the PostgreSQL suites will skip';
  }
  const client = new pg.Client({ connectionString: PG_DEFAULT, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    process.env.AUTHWATCH_TEST_PG = PG_DEFAULT;
    return `PostgreSQL: found ${PG_DEFAULT.replace(/:[^:@/]*@/, ':***@')}; AUTHWATCH_TEST_PG set for the suites`;
  } catch (err) {
    return `PostgreSQL: none at ${PG_DEFAULT.replace(/:[^:@/]*@/, ':***@')} (${err.code ?? err.message}); the PostgreSQL suites will skip (start a server or set AUTHWATCH_TEST_PG)`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];

// The wire contract package (@authwatch/wire) is imported from its dist/ by every suite and typecheck:
// build it first so a changed schema is what gets tested (npm ci builds it too, via prepare).
const wire = spawnSync('npm', ['run', '--silent', 'build', '-w', '@authwatch/wire'], { cwd: root, stdio: 'inherit' });
if (wire.status !== 0) {
  failed += 1;
  lines.push(`wire: build exited ${wire.status}`);
}
for (const suite of suites) {
  if (wanted.length && !wanted.includes(suite.name)) continue;
  if (!existsSync(join(root, suite.config))) {
    lines.push(`${suite.name}: no ${suite.config}, not run`);
    continue;
  }
  const out = join(outDir, `${suite.name}.json`);
  console.log(`\n=== ${suite.name} ===`);
  const [bin, ...args] = suite.cmd;
  // --verbose=false: jest buffers each file's console output only when not verbose, and the skip
  // reporter reads the skip reasons from that buffer.
  const reporters = ['--reporters=default', `--reporters=${skipReporter}`, '--verbose=false'];
  const run = spawnSync(bin, [...args, '--ci', '--json', `--outputFile=${out}`, ...reporters], { cwd: root, stdio: 'inherit' });
  let r;
  try {
    r = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    // The runner died before writing results: count the suite as one failure, never as green.
    failed += 1;
    lines.push(`${suite.name}: runner exited ${run.status} without results`);
    continue;
  }
  // A test file that failed to load counts as a failure even though it has no test results.
  const brokenFiles = r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
  passed += r.numPassedTests;
  failed += r.numFailedTests + brokenFiles;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  lines.push(`${suite.name}: ${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed, ${r.numPendingTests} skipped`);
  if (run.status !== 0 && r.numFailedTests + brokenFiles === 0) {
    failed += 1;
    lines.push(`${suite.name}: runner exited ${run.status}`);
  }
}
if (!wanted.length || wanted.includes('static')) {
  console.log('\n=== static ===');
  let ok = 0;
  for (const check of checks) {
    const [bin, ...args] = check.cmd;
    const run = spawnSync(bin, args, { cwd: root, stdio: 'inherit' });
    if (run.status === 0) {
      ok += 1;
    } else {
      failed += 1;
      console.log(`FAILED: ${check.name} (exit ${run.status})`);
    }
  }
  passed += ok;
  lines.push(`static: ${ok} passed, ${checks.length - ok} failed`);
}
console.log('\n' + lines.join('\n'));
const skips = skippedFiles();
if (skips.length) {
  const n = skips.reduce((sum, s) => sum + s.skipped, 0);
  console.log(`\nskipped (${n} ${n === 1 ? 'test' : 'tests'} in ${skips.length} ${skips.length === 1 ? 'file' : 'files'}):`);
  for (const s of skips) {
    console.log(`  ${s.file}: ${s.skipped} skipped: ${s.reasons.length ? s.reasons.join(' / ') : 'no reason printed (the file should log why it skips)'}`);
    const enable = enablers(s.reasons.join(' '));
    if (enable) console.log(`    enable with: ${enable}`);
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

/** The skip reporter's lines, one per skipped file. */
function skippedFiles() {
  if (!existsSync(skipReport)) return [];
  return readFileSync(skipReport, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The variables and packages a skip reason names. */
function enablers(text) {
  const found = new Set();
  for (const m of text.matchAll(/\b(AUTHWATCH_[A-Z0-9_]+|CHROMIUM_PATH|CHROME_PATH)\b/g)) found.add(m[1]);
  for (const m of text.matchAll(/apt-get install ([\w.+-]+(?: [\w.+-]+)*)/g)) found.add(`apt-get install ${m[1]}`);
  for (const m of text.matchAll(/install (@[\w.-]+\/[\w.-]+|[\w.-]+) or/g)) found.add(`npm install ${m[1]}`);
  return [...found].join(', ');
}
