// Jest reporter used by scripts/test.mjs: for every test file with skipped (pending/todo) tests,
// appends one JSON line to $AUTHWATCH_SKIP_REPORT with the file, the skipped titles and what the
// file printed about skipping (the reason and what would enable it).
const { appendFileSync } = require('node:fs');
const { relative } = require('node:path');

class SkipReporter {
  constructor() {
    this.out = process.env.AUTHWATCH_SKIP_REPORT;
  }

  onTestResult(_test, result) {
    if (!this.out) return;
    const skipped = result.testResults.filter((t) => t.status === 'pending' || t.status === 'todo' || t.status === 'skipped');
    if (!skipped.length) return;
    const reasons = (result.console ?? [])
      .map((entry) => String(entry.message).trim())
      .filter((message) => /skip/i.test(message))
      .map((message) => message.split('\n')[0].slice(0, 400));
    appendFileSync(
      this.out,
      JSON.stringify({
        file: relative(process.cwd(), result.testFilePath),
        skipped: skipped.length,
        titles: skipped.map((t) => t.fullName).slice(0, 50),
        reasons: [...new Set(reasons)],
      }) + '\n',
    );
  }
}

module.exports = SkipReporter;
