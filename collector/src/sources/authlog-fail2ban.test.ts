// Our sshd parser against the real peer: fail2ban's sshd filter, run by fail2ban-regex on the same
// files. The failures fail2ban finds per IP must equal ours per IP, except for two deliberate,
// named differences (docs/sources.md):
//   - "message repeated N times: [ Failed … ]": rsyslog folded N identical failures into one line;
//     fail2ban's prefix regex does not match it (0), we count N.
//   - "Connection closed by / Disconnected from authenticating user … [preauth]": a login attempt
//     abandoned during authentication; fail2ban's normal mode marks it NOFAIL (its aggressive mode
//     counts it), we store it as a failure with reason preauth_closed.
// Then both run on a generated 200k-line log; the speed ratio is printed, never asserted.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../test/helpers/server';
import { pipelineSink, runAuthLogSource } from './authlog';
import { createAuthLogParser } from './authlog-parse';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generateAuthLog } = require('../../test/fixtures/authlog-generate.cjs') as { generateAuthLog: (n: number) => string[] };

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const FILTER = '/etc/fail2ban/filter.d/sshd.conf';
const NOW = Date.parse('2026-11-24T12:00:00Z');

function fail2banRegex(): string | null {
  const which = spawnSync('sh', ['-c', 'command -v fail2ban-regex'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  return bin && existsSync(FILTER) ? bin : null;
}

const BIN = fail2banRegex();
if (!BIN && process.env.CI === 'true') {
  throw new Error(`fail2ban-regex or ${FILTER} is missing: CI must install the Debian package "fail2ban" (.ci/run does)`);
}
const maybe = BIN ? describe : describe.skip;
if (!BIN) console.log(`SKIP fail2ban comparison: fail2ban-regex or ${FILTER} not installed (apt-get install fail2ban)`);

/** fail2ban-regex in its normal mode, one IP printed per failure it counts. */
function fail2banFailures(file: string): { perIp: Map<string, number>; seconds: number } {
  const r = spawnSync(BIN!, ['-o', 'ip', file, FILTER], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`fail2ban-regex failed (${r.status}): ${r.stderr}`);
  const perIp = new Map<string, number>();
  for (const ip of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
  return { perIp, seconds: NaN };
}

/** fail2ban-regex's own timing (excludes Python start-up), from its summary. */
function fail2banSeconds(file: string): number {
  const r = spawnSync(BIN!, ['--print-no-missed', '--print-no-ignored', file, FILTER], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const m = /\[processed in ([\d.]+) sec\]/.exec(r.stdout);
  if (!m) throw new Error(`no timing in fail2ban-regex output:\n${r.stdout.slice(-2000)}`);
  return Number(m[1]);
}

interface Ours {
  perIp: Map<string, number>;
  /** The deliberate differences, per IP. */
  extra: Map<string, number>;
}

function ourFailures(lines: string[]): Ours {
  const parse = createAuthLogParser({ timezone: 'UTC', now: () => NOW });
  const perIp = new Map<string, number>();
  const extra = new Map<string, number>();
  const add = (m: Map<string, number>, ip: string) => m.set(ip, (m.get(ip) ?? 0) + 1);
  for (const line of lines) {
    for (const e of parse(line) ?? []) {
      if (e.outcome !== 'failure' || !e.ip) continue;
      add(perIp, e.ip);
      if (line.includes(': message repeated ') || e.reason === 'preauth_closed') add(extra, e.ip);
    }
  }
  return { perIp, extra };
}

function minus(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [ip, n] of a) {
    const d = n - (b.get(ip) ?? 0);
    if (d) out[ip] = d;
  }
  return out;
}

const obj = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));

maybe('sshd failures per IP: ours vs fail2ban-regex (sshd filter, normal mode)', () => {
  test.each(['authlog-debian.log', 'authlog-rfc3339.log'])('%s', (name) => {
    const file = join(FIXTURES, name);
    const theirs = fail2banFailures(file).perIp;
    const ours = ourFailures(readFileSync(file, 'utf8').split('\n'));
    expect(theirs.size).toBeGreaterThan(2);
    // Equal once the deliberate differences are taken out…
    expect(obj(new Map(Object.entries(minus(ours.perIp, ours.extra))))).toEqual(obj(theirs));
    // …and those differences are exactly the lines we say they are.
    const expected: Record<string, Record<string, number>> = {
      // 198.51.100.23: "message repeated 3 times"; 192.0.2.77 and 2001:db8::bad:1: preauth_closed
      'authlog-debian.log': { '198.51.100.23': 3, '192.0.2.77': 1, '2001:db8::bad:1': 1 },
      // 2001:db8:feed::7: "message repeated 2 times" + one preauth_closed
      'authlog-rfc3339.log': { '2001:db8:feed::7': 3 },
    };
    expect(obj(ours.extra)).toEqual(expected[name]);
  });

  test('generated 200k-line log: same per-IP failures (modulo the named differences); speed ratio printed', async () => {
    const s = await startServer();
    try {
      const lines = generateAuthLog(200_000);
      const file = join(s.dir, 'auth-200k.log');
      writeFileSync(file, lines.join('\n') + '\n');

      const theirs = fail2banFailures(file).perIp;
      const ours = ourFailures(lines);
      expect(theirs.size).toBeGreaterThan(1000);
      expect(minus(ours.perIp, ours.extra)).toEqual(obj(theirs));

      const theirSeconds = fail2banSeconds(file);
      const t0 = process.hrtime.bigint();
      const stats = await runAuthLogSource({
        path: file, follow: false, fromStart: true, timezone: 'UTC', now: () => NOW,
        sink: pipelineSink(s.collector.pipeline, s.collector.hashSessionId),
      });
      const ourSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      expect(stats.lines).toBe(200_000);
      expect(stats.rejected).toBe(0);
      const oursRate = 200_000 / ourSeconds;
      const theirRate = 200_000 / theirSeconds;
      console.log(
        `sshd log ingest, 200k lines: ours (full pipeline into SQLite) ${Math.round(oursRate)} lines/s (${ourSeconds.toFixed(2)} s, ${stats.accepted} events stored) vs fail2ban-regex ${Math.round(theirRate)} lines/s (${theirSeconds.toFixed(2)} s) = ${(oursRate / theirRate).toFixed(2)}x`,
      );
    } finally {
      await s.stop(true);
    }
  }, 300_000);
});
