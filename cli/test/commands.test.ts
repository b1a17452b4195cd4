// `authwatch` against a real collector process: --help everywhere, usage errors (exit 2), a
// collector that is not there (exit 4), serve, status, events, sessions, lockouts, check, unlock,
// terminate, policy and tail, each checked by what the collector then says over its own API.
import { buildIfStale, cli, cliProcess, closedPort, getJson, ingest, KEYS, startCollector, waitFor, type Collector } from './helpers';

const SUBCOMMANDS = ['serve', 'import', 'status', 'events', 'sessions', 'lockouts', 'unlock', 'terminate', 'policy', 'check', 'tail'];

let c: Collector;
let admin: Record<string, string>;
let read: Record<string, string>;
// Inside the lockout window (600 s, on the collector's clock) and before now.
const T = Date.now() - 2 * 60_000;

beforeAll(async () => {
  buildIfStale();
  c = await startCollector();
  admin = { AUTHWATCH_URL: c.url, AUTHWATCH_KEY: KEYS.admin, AUTHWATCH_INGEST_KEY: KEYS.ingest };
  read = { AUTHWATCH_URL: c.url, AUTHWATCH_KEY: KEYS.read };
  await ingest(c.url, [
    { id: 'a1', time: T, type: 'login', outcome: 'success', user: 'alice', ip: '198.51.100.10', session_id: 'sess-alice-1', service: 'web' },
    { id: 'a2', time: T + 1000, type: 'login', outcome: 'success', user: 'alice', ip: '198.51.100.11', session_id: 'sess-alice-2', service: 'web' },
    { id: 'c1', time: T + 2000, type: 'login', outcome: 'success', user: 'carol', ip: '198.51.100.12', session_id: 'sess-carol-1', service: 'api' },
    ...Array.from({ length: 6 }, (_, i) => ({ id: `b${i}`, time: T + 3000 + i, type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'bob', ip: '203.0.113.7' })),
  ]);
}, 240_000);

afterAll(async () => {
  await c?.stop();
});

describe('help and usage', () => {
  test('--help of the program and of every subcommand prints usage and exits 0', async () => {
    const top = await cli(['--help'], {});
    expect(top.code).toBe(0);
    for (const s of SUBCOMMANDS) expect(top.stdout).toContain(s);
    expect(top.stdout).toMatch(/Exit codes:\n  0  done/);
    for (const s of SUBCOMMANDS) {
      const r = await cli([s, '--help'], {});
      expect({ s, code: r.code, stderr: r.stderr }).toEqual({ s, code: 0, stderr: '' });
      expect(r.stdout).toMatch(s === 'serve' ? /^Usage: authwatch serve \[options\]/ : new RegExp(`^Usage: authwatch ${s} `));
    }
    const sub = await cli(['policy', 'set', '--help'], {});
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/Usage: authwatch policy set \[options\] <key=value\.\.\.>/);
  });

  test('an unknown flag, command or missing argument is a usage error: exit 2, the error and the usage on stderr', async () => {
    for (const args of [['events', '--bogus'], ['statuss'], ['check'], ['serve', '--bogus'], ['events', '--order', 'sideways'], ['events', '--since', 'yesterday-ish'], ['unlock']]) {
      const r = await cli(args, admin);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/unknown option '--bogus'|unknown command 'statuss'|missing required argument 'user'|Unknown option '--bogus'|argument 'sideways' is invalid|--since "yesterday-ish"|give a USER or --ip/);
      expect(r.stdout).toBe('');
    }
    const r = await cli(['events', '--bogus'], admin);
    expect(r.stderr).toMatch(/Usage: authwatch events \[options\] \[user\]/);
  });

  test('a collector that is not there: exit 4 and a message that says so', async () => {
    const port = await closedPort();
    const r = await cli(['status'], { AUTHWATCH_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`cannot connect to the collector at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });
});

test('serve: starts the collector (same flags as authwatch-collector), answers, exits 0 on SIGTERM', async () => {
  const p = cliProcess(['serve', '--port', '0', '--no-demo', '--store', `sqlite:${c.dir}/served.db`], {});
  try {
    await waitFor('the listening line', () => /listening on (http:\/\/\S+)/.test(p.out()));
    const url = /listening on (http:\/\/\S+)/.exec(p.out())![1];
    const r = await cli(['status'], { AUTHWATCH_URL: url });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Health:\s+ok/);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('status: health, today, failures, active sessions and the lock, as the API counts them', async () => {
  const r = await cli(['status'], read);
  expect(r.code).toBe(0);
  const stats = await getJson<{ logins: number; failures: number; active_sessions: number }>(c.url, `/v1/stats?from=${new Date(new Date().setHours(0, 0, 0, 0)).getTime()}`);
  expect(r.stdout).toMatch(/^Status of http:\/\/127\.0\.0\.1:\d+\n\|- Health: +ok \(key role: read, "grafana"\)/);
  expect(r.stdout).toMatch(new RegExp(`Logins: +${stats.logins} succeeded`));
  expect(r.stdout).toMatch(new RegExp(`Failures: +${stats.failures} \\(`));
  expect(r.stdout).toMatch(/Active sessions: +3/);
  expect(r.stdout).toMatch(/Locks in force: +1\n +`- Locked: +bob \(user, until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)/);
  const j = await cli(['status', '--json'], read);
  expect(JSON.parse(j.stdout)).toMatchObject({ health: 'ok', role: 'read', active_sessions: 3, failures: stats.failures });
});

describe('events', () => {
  test('a table in the local zone (TZ), newest first; --json keeps epoch ms; --csv is the collector export', async () => {
    const utc = await cli(['events', '--user', 'alice'], { ...read, TZ: 'UTC' });
    const tokyo = await cli(['events', 'alice'], { ...read, TZ: 'Asia/Tokyo' });
    expect(utc.code).toBe(0);
    const iso = (ms: number, offsetH: number) => new Date(ms + offsetH * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    expect(utc.stdout.split('\n')[0]).toMatch(/^TIME \(UTC\) +TYPE +OUTCOME +REASON +USER +IP +COUNTRY +SERVICE$/);
    expect(utc.stdout.split('\n')[1]).toMatch(new RegExp(`^${iso(T + 1000, 0)} +login +success +alice +198\\.51\\.100\\.11 +reserved +web$`));
    expect(tokyo.stdout.split('\n')[0]).toMatch(/^TIME \(Asia\/Tokyo\)/);
    expect(tokyo.stdout.split('\n')[1]).toContain(iso(T + 1000, 9));
    const json = JSON.parse((await cli(['events', '--user', 'alice', '--json'], read)).stdout) as Array<{ id: string; time: number }>;
    expect(json.map((e) => [e.id, e.time])).toEqual([
      ['a2', T + 1000],
      ['a1', T],
    ]);
    const csv = await cli(['events', '--user', 'alice', '--csv', '--order', 'asc'], read);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toMatch(/^time,id,type,outcome,reason,user,/);
    expect(lines[1]).toMatch(new RegExp(`^${new Date(T).toISOString()},a1,login,success,,alice,`));
    expect(lines).toHaveLength(3);
  });

  test('filters and --since are sent as the API takes them', async () => {
    const failures = await cli(['events', '--outcome', 'failure', '--user', 'bob', '--json'], read);
    expect((JSON.parse(failures.stdout) as unknown[]).length).toBe(6);
    const recent = await cli(['events', '--since', '1m', '--json', '--type', 'login'], read);
    expect(JSON.parse(recent.stdout)).toEqual([]);
    const many = await cli(['events', '--user', 'alice,carol', '--limit', '1'], read);
    expect(many.stdout.trim().split('\n')).toHaveLength(2);
    expect(many.stderr).toMatch(/1 of 3 events shown/);
  });
});

test('a user name carrying terminal escapes is shown escaped in tables and tail, never sent to the terminal raw', async () => {
  const evil = 'mallory\x1b]0;owned\x07\x1b[2J\u202egnp.exe';
  await ingest(c.url, [{ id: 'evil-1', time: Date.now() - 1000, type: 'login', outcome: 'failure', reason: 'invalid_password', user: evil, ip: '203.0.113.66' }]);
  const table = await cli(['events', '--ip', '203.0.113.66'], read);
  const tail = await cli(['tail', '--since', '1m', '--ip', '203.0.113.66', '--count', '1'], read);
  for (const out of [table.stdout, tail.stdout]) {
    expect(out).toContain('mallory\\x1b]0;owned\\x07\\x1b[2J\\u202egnp.exe');
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\u202e]/);
  }
  // --json stays exact (JSON escapes the control characters itself).
  expect(JSON.parse((await cli(['events', '--ip', '203.0.113.66', '--json'], read)).stdout)[0].user).toBe(evil);
});

test('sessions: the active ones, a table with local times; --json and --csv', async () => {
  const r = await cli(['sessions'], read);
  expect(r.code).toBe(0);
  const rows = r.stdout.trim().split('\n');
  expect(rows[0]).toMatch(/^ID +USER +IP +COUNTRY +CLIENT +STARTED \(UTC\) +LAST SEEN +STATE/);
  expect(rows).toHaveLength(4);
  expect(r.stdout).toMatch(new RegExp(`carol +198\\.51\\.100\\.12 +reserved +${new Date(T + 2000).toISOString().slice(0, 19).replace('T', ' ')}`));
  const csv = (await cli(['sessions', 'alice', '--csv'], read)).stdout.trim().split('\r\n');
  expect(csv[0]).toMatch(/^id,user,user_id,ip,/);
  expect(csv).toHaveLength(3);
  expect(csv[1]).toContain(new Date(T + 1000).toISOString());
  expect(JSON.parse((await cli(['sessions', '--user', 'carol', '--json'], read)).stdout)).toHaveLength(1);
});

test('lockouts, check, unlock: the lock shows, check refuses (exit 3), unlock lifts it, a mistyped user is "no such user" (exit 3)', async () => {
  const locks = await cli(['lockouts'], read);
  expect(locks.stdout).toMatch(/^LOCKED AT \(UTC\) +UNTIL +USER +SCOPE +IP +FAILURES +STATE/);
  expect(locks.stdout).toMatch(/bob +user +203\.0\.113\.7 +6 +locked/);
  const refused = await cli(['check', 'bob', '203.0.113.7'], admin);
  expect(refused.code).toBe(3);
  expect(refused.stdout).toMatch(/^refused: bob from 203\.0\.113\.7: the account is locked \(user_locked\), retry after \d+m/);
  expect((await cli(['check', 'alice'], admin)).stdout).toBe('allowed: alice\n');
  // A read key may not unlock: refused (exit 3), nothing changes.
  const denied = await cli(['unlock', 'bob'], read);
  expect(denied.code).toBe(3);
  expect(denied.stderr).toMatch(/403/);

  const typo = await cli(['unlock', 'bobb'], admin);
  expect(typo.code).toBe(3);
  expect(typo.stderr).toMatch(/^authwatch: no such user: "bobb"/);
  const values = await getJson<{ values: string[] }>(c.url, '/v1/values/user');
  expect(values.values).not.toContain('bobb');

  const ok = await cli(['unlock', 'bob'], admin);
  expect(ok).toMatchObject({ code: 0, stdout: 'unlocked bob: 1 lock lifted\n' });
  expect((await cli(['check', 'bob', '203.0.113.7'], admin)).code).toBe(0);
  expect((await cli(['lockouts'], read)).stdout).toBe('no locks in force\n');
  expect((await cli(['lockouts', '--state', 'all', '--json'], read)).stdout).toMatch(/"unlocked_by": "ops"/);
});

test('unlock --ip: an address, and a CIDR range lifts every blocked address inside it', async () => {
  // 20 failures from one address block it (ip_max_failed_attempts), for two addresses of one /24.
  const burst = (ip: string, tag: string) => Array.from({ length: 21 }, (_, i) => ({ id: `${tag}-${i}`, type: 'login', outcome: 'failure', reason: 'invalid_user', user: `u${tag}${i}`, ip }));
  await ingest(c.url, [...burst('192.0.2.5', 'x'), ...burst('192.0.2.6', 'y'), ...burst('198.18.0.9', 'z')]);
  const blocked = await getJson<{ lockouts: Array<{ ip: string; scope: string }> }>(c.url, '/v1/lockouts?state=locked');
  expect(blocked.lockouts.filter((l) => l.scope === 'ip').map((l) => l.ip).sort()).toEqual(['192.0.2.5', '192.0.2.6', '198.18.0.9']);
  const range = await cli(['unlock', '--ip', '192.0.2.0/24'], admin);
  expect(range.code).toBe(0);
  expect(range.stdout).toMatch(/^unlocked 2 addresses in 192\.0\.2\.0\/24: 2 locks lifted \(192\.0\.2\.[56], 192\.0\.2\.[56]\)/);
  const one = await cli(['unlock', '--ip', '198.18.0.9'], admin);
  expect(one.stdout).toBe('unlocked 198.18.0.9: 1 lock lifted\n');
  expect((await getJson<{ lockouts: unknown[] }>(c.url, '/v1/lockouts?state=locked')).lockouts).toEqual([]);
  expect((await cli(['unlock', 'bob', '--ip', '1.2.3.4'], admin)).code).toBe(2);
});

test('terminate: a session by the start of its listed id, all of a user\'s, an ended one (exit 3), an unknown session (exit 3)', async () => {
  const sessions = await getJson<{ sessions: Array<{ id: string; user: string }> }>(c.url, '/v1/sessions?user=carol');
  const id = sessions.sessions[0].id;
  const one = await cli(['terminate', id.slice(0, 10)], admin);
  expect(one).toMatchObject({ code: 0, stdout: `ended session ${id.slice(0, 12)} (terminated_by_admin)\n` });
  const again = await cli(['terminate', id], admin);
  expect(again.code).toBe(3);
  expect(again.stderr).toMatch(/already ended/);
  const all = await cli(['terminate', '--user', 'alice'], admin);
  expect(all).toMatchObject({ code: 0, stdout: 'ended 2 sessions of alice\n' });
  expect((await getJson<{ sessions: unknown[] }>(c.url, '/v1/sessions?state=active')).sessions).toEqual([]);
  const unknown = await cli(['terminate', 'not-a-session'], admin);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toMatch(/no such session: "not-a-session"/);
});

test('terminate --user for a user the collector has never seen: "no such user" (the collector\'s 404), exit 3, no audit event', async () => {
  const nobody = await cli(['terminate', '--user', 'nobody-here'], admin);
  expect(nobody.code).toBe(3);
  expect(nobody.stderr).toMatch(/^authwatch: no such user: "nobody-here"/);
  expect((await getJson<{ values: string[] }>(c.url, '/v1/values/user')).values).not.toContain('nobody-here');
});

test('policy get and set: JSON with Content-Type application/json, durations for *_seconds, bad values are exit 2', async () => {
  const got = await cli(['policy', 'get'], read);
  expect(got.stdout).toMatch(/^max_failed_attempts: +5$/m);
  expect(got.stdout).toMatch(/^lock_seconds: +900 \(15m\)$/m);
  const set = await cli(['policy', 'set', 'max_failed_attempts=3', 'lock_seconds=30m', 'escalation=linear', 'permanent_after=null'], admin);
  expect(set.code).toBe(0);
  expect(set.stdout).toMatch(/^policy updated \(max_failed_attempts, lock_seconds, escalation, permanent_after\)/);
  expect(await getJson(c.url, '/v1/policy')).toMatchObject({ max_failed_attempts: 3, lock_seconds: 1800, escalation: 'linear', permanent_after: null });
  const bad = await cli(['policy', 'set', 'max_failed_attempts=lots'], admin);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/max_failed_attempts/);
  expect((await cli(['policy', 'set', 'nonsense'], admin)).code).toBe(2);
  expect((await cli(['policy', 'get', '--json'], read)).stdout).toMatch(/"max_failed_attempts": 3/);
  await cli(['policy', 'set', 'max_failed_attempts=5', 'lock_seconds=900', 'escalation=none'], admin);
});

test('tail: events posted after it starts are printed as they arrive; --count ends it; Ctrl-C ends it with 0', async () => {
  const p = cliProcess(['tail', '--json', '--interval', '200ms', '--user', 'dave'], admin);
  try {
    await new Promise((r) => setTimeout(r, 800));
    await ingest(c.url, [{ id: 'd1', type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'dave', ip: '203.0.113.50' }, { id: 'e1', type: 'login', outcome: 'success', user: 'erin' }]);
    await waitFor('dave in the tail', () => p.out().includes('"d1"'));
    await ingest(c.url, [{ id: 'd2', type: 'login', outcome: 'success', user: 'dave', ip: '203.0.113.50' }]);
    await waitFor('the second event', () => p.out().includes('"d2"'));
    const lines = p.out().trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(lines.map((e) => e.id)).toEqual(['d1', 'd2']);
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(0);
  } finally {
    p.child.kill('SIGKILL');
  }
  const counted = await cli(['tail', '--since', '1h', '--user', 'bob', '--count', '2', '--outcome', 'failure'], read);
  expect(counted.code).toBe(0);
  const rows = counted.stdout.trim().split('\n');
  expect(rows).toHaveLength(2);
  expect(rows[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d login +failure +invalid_password +bob +203\.0\.113\.7/);
});
