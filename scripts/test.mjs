#!/usr/bin/env node
// Runs every test suite in the repository and ends with one plain line: "N passed, N failed".
// Usage: npm test [-- suite ...]   (suite names below; default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jest = join(root, 'node_modules', '.bin', 'jest');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

// name, the config that must exist for the suite to run, and the command (jest flags appended).
const suites = [
  { name: 'collector', config: 'collector/jest.config.js', cmd: [jest, '-c', 'collector/jest.config.js'] },
  { name: 'client', config: 'client/jest.config.js', cmd: [jest, '-c', 'client/jest.config.js'] },
  { name: 'demo', config: 'demo/jest.config.js', cmd: [jest, '-c', 'demo/jest.config.js'] },
  { name: 'provisioning', config: 'provisioning/jest.config.js', cmd: [jest, '-c', 'provisioning/jest.config.js'] },
  { name: 'plugin', config: 'plugin/jest.config.js', cmd: ['npm', 'run', '--silent', 'test:ci', '-w', 'plugin', '--'] },
  { name: 'browser', config: 'plugin/harness/jest.config.js', cmd: ['npm', 'run', '--silent', 'test:browser', '-w', 'plugin', '--'] },
  { name: 'reliability', config: 'collector/jest.reliability.config.js', cmd: [jest, '-c', 'collector/jest.reliability.config.js'] },
];

// Static checks: each command is one result (typecheck and lint must stay clean).
const checks = [
  { name: 'typecheck collector', cmd: [tsc, '-p', 'collector/tsconfig.json', '--noEmit'] },
  { name: 'typecheck client', cmd: [tsc, '-p', 'client/tsconfig.json', '--noEmit'] },
  { name: 'typecheck demo', cmd: [tsc, '-p', 'demo/tsconfig.json', '--noEmit'] },
  { name: 'typecheck plugin', cmd: ['npm', 'run', '--silent', 'typecheck', '-w', 'plugin'] },
  { name: 'typecheck plugin harness', cmd: [tsc, '-p', 'plugin/harness/tsconfig.json', '--noEmit'] },
  { name: 'lint plugin', cmd: ['npm', 'run', '--silent', 'lint', '-w', 'plugin'] },
];

const wanted = process.argv.slice(2);
const outDir = join(root, '.ci', 'results');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
for (const suite of suites) {
  if (wanted.length && !wanted.includes(suite.name)) continue;
  if (!existsSync(join(root, suite.config))) {
    lines.push(`${suite.name}: no ${suite.config}, not run`);
    continue;
  }
  const out = join(outDir, `${suite.name}.json`);
  console.log(`\n=== ${suite.name} ===`);
  const [bin, ...args] = suite.cmd;
  const run = spawnSync(bin, [...args, '--ci', '--json', `--outputFile=${out}`], { cwd: root, stdio: 'inherit' });
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
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
