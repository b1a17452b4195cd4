// The built CLI with the auth.log source: `--authlog FILE --once` imports and exits with a
// summary, `--authlog -` reads stdin, `--authlog FILE --follow` serves while following, bad
// options exit 1 with a clear message. The store is then read back through the real API.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { KEYS, startServer, tempDir } from '../../test/helpers/server';
import { buildCollectorIfStale, collectorMain as main, listeningUrl, spawnCollector } from '../../test/helpers/spawn-collector';
import { testEnv } from '../../test/helpers/env';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const fixture = join(FIXTURES, 'authlog-debian.log');

beforeAll(buildCollectorIfStale, 180_000);

function env(dir: string): Record<string, string> {
  return {
    PATH: testEnv.PATH ?? '',
    AUTHWATCH_HOST: '127.0.0.1',
    AUTHWATCH_PORT: '0',
    AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`,
    AUTHWATCH_INGEST_KEYS: `app:${KEYS.ingest}`,
    AUTHWATCH_READ_KEYS: `grafana:${KEYS.read}`,
    AUTHWATCH_ADMIN_KEYS: `ops:${KEYS.admin}`,
    AUTHWATCH_SESSION_KEY: 'test-session-key-0123456789',
  };
}

async function storedSshdEvents(dir: string): Promise<Record<string, any>[]> {
  const s = await startServer({ dir });
  try {
    return ((await s.get('/v1/events?limit=1000')).body.events as Record<string, any>[]).filter((e) => e.service === 'sshd' && e.id.startsWith('sshd-'));
  } finally {
    await s.stop(true);
  }
}

test('--authlog FILE --once: imports, prints the totals, exits 0; the events are in the store', async () => {
  const dir = tempDir();
  const r = spawnSync(process.execPath, [main, '--authlog', fixture, '--once', '--authlog-tz', 'UTC'], { env: env(dir), encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^authlog: 48 lines, 21 events, 20 accepted, 1 duplicates, 0 rejected in [\d.]+ s \(\d+ lines\/s\)$/m);
  expect(r.stdout).not.toMatch(/listening/);
  const evs = await storedSshdEvents(dir);
  expect(evs).toHaveLength(20);
  expect(evs.filter((e) => e.outcome === 'failure' && e.ip === '198.51.100.23')).toHaveLength(5);
});

test('--authlog - --once reads stdin', async () => {
  const dir = tempDir();
  const r = spawnSync(process.execPath, [main, '--authlog', '-', '--once'], { env: env(dir), encoding: 'utf8', input: readFileSync(fixture, 'utf8') });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/authlog: 48 lines, 21 events, 20 accepted/);
  expect(await storedSshdEvents(dir)).toHaveLength(20);
});

test('--authlog FILE --follow: serves while following; appended lines reach GET /v1/events; SIGTERM exits 0', async () => {
  const dir = tempDir();
  const file = join(dir, 'auth.log');
  copyFileSync(fixture, file);
  const p = spawnCollector(['--authlog', file, '--follow'], env(dir));
  try {
    const end = Date.now() + 20_000;
    const url = await listeningUrl(p, 'the collector', 20_000);
    // Following starts at the end: the existing lines are not read, an appended one is (once the
    // collector says it holds its position).
    while (!/"msg":"authlog: following"/.test(p.out() + p.err())) {
      if (Date.now() > end) throw new Error(`no "authlog: following" line; stdout: ${p.out().slice(-500)} stderr: ${p.err().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    appendFileSync(file, 'Nov 24 10:00:00 bastion-1 sshd[30001]: Failed password for root from 198.51.100.250 port 4000 ssh2\n');
    let got: Record<string, any>[] = [];
    while (Date.now() < end) {
      const res = await fetch(`${url}/v1/events?service=sshd`, { headers: { authorization: `Bearer ${KEYS.read}` } });
      got = ((await res.json()) as { events: Record<string, any>[] }).events;
      if (got.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(got.map((e) => `${e.user}@${e.ip}:${e.reason}`)).toEqual(['root@198.51.100.250:invalid_password']);
  } finally {
    p.child.kill('SIGTERM');
  }
  expect(await p.exit).toBe(0);
});

test('--authlog-journal FILE --once imports journalctl -o json; --authlog FILE.gz --once a rotated log', async () => {
  const dir = tempDir();
  const j = spawnSync(process.execPath, [main, '--authlog-journal', join(FIXTURES, 'authlog-journal.json'), '--once'], { env: env(dir), encoding: 'utf8' });
  expect(j.status).toBe(0);
  expect(j.stdout).toMatch(/^authlog: 12 lines, 4 events, 4 accepted, 0 duplicates, 0 rejected in /m);
  expect((await storedSshdEvents(dir)).map((e) => `${e.user}@${e.ip}`).sort()).toEqual(['admin@203.0.113.50', 'alice@192.0.2.60', 'j\\366rg@198.51.100.70', 'root@2001:db8:77::5']);
  const gzDir = tempDir();
  writeFileSync(join(gzDir, 'auth.log.2.gz'), gzipSync(readFileSync(fixture)));
  const gz = spawnSync(process.execPath, [main, '--authlog', join(gzDir, 'auth.log.2.gz'), '--once', '--authlog-tz', 'UTC'], { env: env(gzDir), encoding: 'utf8' });
  expect(gz.status).toBe(0);
  expect(gz.stdout).toMatch(/^authlog: 48 lines, 21 events, 20 accepted, 1 duplicates, 0 rejected in /m);
  expect(await storedSshdEvents(gzDir)).toHaveLength(20);
});

test('--authlog-mode aggressive also stores the probe families (fail2ban ddos/extra)', () => {
  const dir = tempDir();
  const families = join(FIXTURES, 'authlog-families.log');
  const normal = spawnSync(process.execPath, [main, '--authlog', families, '--once', '--authlog-tz', 'UTC'], { env: env(dir), encoding: 'utf8' });
  const aggressive = spawnSync(process.execPath, [main, '--authlog', families, '--once', '--authlog-tz', 'UTC', '--authlog-mode', 'aggressive'], { env: env(tempDir()), encoding: 'utf8' });
  const events = (out: string) => Number(/authlog: \d+ lines, (\d+) events/.exec(out)?.[1]);
  expect(events(aggressive.stdout) - events(normal.stdout)).toBe(9); // the nine probe lines/pairs of the fixture
});

test('bad options exit 1 with a clear message', () => {
  const dir = tempDir();
  const tz = spawnSync(process.execPath, [main, '--authlog', fixture, '--once', '--authlog-tz', 'Mars/Olympus'], { env: env(dir), encoding: 'utf8' });
  expect(tz.status).toBe(1);
  expect(tz.stderr).toMatch(/unknown timezone "Mars\/Olympus"/);
  const both = spawnSync(process.execPath, [main, '--authlog', fixture, '--once', '--follow'], { env: env(dir), encoding: 'utf8' });
  expect(both.status).toBe(1);
  expect(both.stderr).toMatch(/--once .* cannot be combined with --follow/);
  const missing = spawnSync(process.execPath, [main, '--authlog', join(dir, 'nope.log'), '--follow'], { env: env(dir), encoding: 'utf8' });
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/--authlog .*nope\.log: cannot read it \(ENOENT\)/);
  const orphan = spawnSync(process.execPath, [main, '--follow'], { env: env(dir), encoding: 'utf8' });
  expect(orphan.status).toBe(1);
  expect(orphan.stderr).toMatch(/need --authlog PATH/);
  writeFileSync(join(dir, 'wtmp'), Buffer.concat([Buffer.from([7, 0, 0, 0]), Buffer.alloc(380)]));
  const binary = spawnSync(process.execPath, [main, '--authlog', join(dir, 'wtmp'), '--once'], { env: env(dir), encoding: 'utf8' });
  expect(binary.status).toBe(1);
  expect(binary.stderr).toMatch(/--authlog .*wtmp is not a text log: binary data \(a NUL byte at offset 1\)/);
  writeFileSync(join(dir, 'auth.log.1.gz'), gzipSync(readFileSync(fixture)));
  const gzFollow = spawnSync(process.execPath, [main, '--authlog', join(dir, 'auth.log.1.gz'), '--follow'], { env: env(dir), encoding: 'utf8' });
  expect(gzFollow.status).toBe(1);
  expect(gzFollow.stderr).toMatch(/auth\.log\.1\.gz is gzip-compressed: --follow reads a growing plain log/);
  const mode = spawnSync(process.execPath, [main, '--authlog', fixture, '--once', '--authlog-mode', 'paranoid'], { env: env(dir), encoding: 'utf8' });
  expect(mode.status).toBe(1);
  expect(mode.stderr).toMatch(/--authlog-mode "paranoid": use one of normal, ddos, extra, aggressive/);
  const twoInputs = spawnSync(process.execPath, [main, '--authlog', fixture, '--authlog-journal', fixture, '--once'], { env: env(dir), encoding: 'utf8' });
  expect(twoInputs.status).toBe(1);
  expect(twoInputs.stderr).toMatch(/either --authlog or --authlog-journal/);
});
