// GET /v1/blocklist against a real collector: IP locks earned through the pipeline (an auth.log
// with user names that name another address; an IPv6 client rotating inside its /64), plus lock
// rows written straight to the store for the cases the pipeline rarely makes (permanent, expired,
// unlocked, user locks, a wider network over a narrower one, a row that is not an address). Every
// format is checked by what consumes it: nft (check mode, then a real load, in a private network
// namespace) and nginx -t. Missing binaries skip with the reason printed, and fail under CI=true.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS, startServer, type TestServer } from '../../test/helpers/server';
import { pipelineSink, runAuthLogSource } from '../sources/authlog';
import type { LockRow, NewLock } from '../store/store';
import { blockEntries, lockNetwork, renderNftables } from './blocklist';
import { testEnv } from '../../test/helpers/env';

const CI = testEnv.CI === 'true';

function which(bin: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.stdout.trim() || null;
}

/** nft in a network namespace of its own (user namespace too when not root): the host's ruleset is never touched. */
const NFT = which('nft') ?? (spawnSync('test', ['-x', '/usr/sbin/nft']).status === 0 ? '/usr/sbin/nft' : null);

function nftRunner(): ((args: string[]) => { status: number | null; out: string }) | string {
  const nft = NFT;
  if (!nft) return 'nft is not installed (apt-get install nftables)';
  if (!which('unshare')) return 'unshare is not installed (util-linux)';
  const run = (args: string[]) => {
    const r = spawnSync('unshare', ['-rn', 'sh', '-c', args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')], { encoding: 'utf8' });
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const probe = run([nft, 'list', 'ruleset']);
  if (probe.status !== 0) return `nft cannot run in a private network namespace here (unshare -rn): ${probe.out.trim().slice(0, 200)}`;
  return (args) => run([nft, ...args]);
}

const nft = nftRunner();
const nginx = which('nginx') ?? (spawnSync('test', ['-x', '/usr/sbin/nginx']).status === 0 ? '/usr/sbin/nginx' : null);
if (typeof nft === 'string') {
  if (CI) throw new Error(`nft check needed in CI: ${nft}`);
  console.log(`SKIP nftables validation: ${nft}`);
}
if (!nginx) {
  if (CI) throw new Error('nginx is missing: CI must install the Debian package "nginx-light"');
  console.log('SKIP nginx validation: nginx is not installed (apt-get install nginx-light)');
}

/** nginx -t on a minimal config that includes `snippet` in a server block; every path under `dir`. */
function nginxTest(dir: string, snippet: string): { status: number | null; out: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'blocklist.conf'), snippet);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`).join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')};\nevents {}\nhttp {\n  access_log off;\n${temp}\n  server {\n    listen 127.0.0.1:1;\n    include ${join(dir, 'blocklist.conf')};\n  }\n}\n`,
  );
  const r = spawnSync(nginx!, ['-t', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A child process without blocking this one (the collector under test answers it from here). */
function runAsync(cmd: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, [], { env });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const syslogStamp = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
};

async function lock(s: TestServer, l: Partial<NewLock> & { ip: string | null }): Promise<LockRow> {
  const now = Date.now();
  return s.collector.store.write((tx) => tx.insertLock({ scope: 'ip', user: null, failures: 21, locked_at: now - 1000, locked_until: now + 3_600_000, reason: 'too_many_failures', ...l }));
}

describe('lock rows → entries', () => {
  const row = (ip: string, over: Partial<LockRow> = {}): LockRow => ({ id: 1, scope: 'ip', user: null, ip, failures: 1, locked_at: 1, locked_until: null, reason: 'too_many_failures', unlocked_at: null, unlocked_by: null, ...over });

  test('addresses and networks as CIDRs; what is not an address is left out', () => {
    expect(lockNetwork('203.0.113.5', false)).toMatchObject({ prefix: 32 });
    expect(['203.0.113.5', '2001:db8::7', '2001:DB8:1:2::/64', '::ffff:198.51.100.9', '2001:db8:1:2:3::/64'].map((ip) => blockEntries([row(ip)], 0, false)[0].cidr)).toEqual([
      '203.0.113.5/32', '2001:db8::7/128', '2001:db8:1:2::/64', '198.51.100.9/32', '2001:db8:1:2::/64',
    ]);
    // AUTHWATCH_IP_TRUNCATE: stored keys stand for their /24 and /48.
    expect(['203.0.113.0', '2001:db8:1::', '2001:db8:1:2::/64'].map((ip) => blockEntries([row(ip)], 0, true)[0].cidr)).toEqual(['203.0.113.0/24', '2001:db8:1::/48', '2001:db8:1::/48']);
    const bad: string[] = [];
    for (const ip of ['not-an-ip', '1.2.3.4; } deny all', '10.1', 'fe80::1%eth0', '2001:db8::/129', '1.2.3.4/33', '']) {
      expect([ip, blockEntries([row(ip)], 0, false, (r) => bad.push(r.ip!))]).toEqual([ip, []]);
    }
    expect(bad).toHaveLength(7);
  });

  test('only IP locks in force; one entry per network, the wider wins, a duplicate keeps the longest expiry', () => {
    const now = 1_000_000;
    const entries = blockEntries(
      [
        row('198.51.100.1', { scope: 'user', user: 'alice' }),
        row('198.51.100.2', { scope: 'user_ip', user: 'bob' }),
        row('198.51.100.3', { unlocked_at: now - 1 }),
        row('198.51.100.4', { locked_until: now }),
        row('203.0.113.9', { locked_until: now + 5000 }),
        row('203.0.113.9', { locked_until: now + 9000 }),
        row('2001:db8:1::/48', { locked_until: now + 1000 }),
        row('2001:db8:1:2::/64', { locked_until: null }),
        row('2001:db8:2::/64', { locked_until: now + 1000 }),
        row('2001:db8:2::/64', { locked_until: null }),
      ],
      now,
      false,
    );
    expect(entries.map((e) => [e.cidr, e.expires_at])).toEqual([
      ['203.0.113.9/32', now + 9000],
      ['2001:db8:1::/48', now + 1000],
      ['2001:db8:2::/64', null],
    ]);
  });

  test('an empty blocklist is still a valid nftables file', () => {
    const file = renderNftables([], 0);
    expect(file).not.toContain('elements');
    if (typeof nft === 'string') return;
    const dir = join(tmpdir(), `authwatch-nft-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'empty.nft'), file);
    expect(nft(['-c', '-f', join(dir, 'empty.nft')])).toEqual({ status: 0, out: '' });
  });
});

describe('GET /v1/blocklist', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
    // 25 sshd failures whose user names name 10.0.0.1; the address sshd saw is 203.0.113.5. (A new
    // name each time, as a brute forcer goes through a list: one name would be locked after 5, and
    // failures against a locked name do not count towards the address.)
    const now = Date.now();
    const lines = Array.from({ length: 25 }, (_, i) => `${syslogStamp(now - (25 - i) * 1000)} gw sshd[${4000 + i}]: Failed password for invalid user admin${i} from 10.0.0.1 port 22 from 203.0.113.5 port ${40000 + i} ssh2`);
    const file = join(s.dir, 'auth.log');
    writeFileSync(file, lines.join('\n') + '\n');
    const stats = await runAuthLogSource({ path: file, follow: false, fromStart: true, timezone: 'UTC', sink: pipelineSink(s.collector.pipeline) });
    expect(stats).toMatchObject({ events: 25, accepted: 25, rejected: 0 });
    // An IPv6 client rotating its address inside one /64: blocked as the /64.
    const v6 = Array.from({ length: 25 }, (_, i) => ({ type: 'login', outcome: 'failure', reason: 'invalid_password', user: `u${i}`, ip: `2001:db8:aa:bb::${(i + 1).toString(16)}` }));
    expect((await s.post('/v1/events', v6)).status).toBe(202);
    await lock(s, { ip: '198.51.100.77', locked_until: null }); // permanent
    await lock(s, { ip: '198.51.100.78', locked_until: Date.now() - 1 }); // expired
    await lock(s, { ip: '198.51.100.79', scope: 'user', user: 'mallory' }); // a user lock keeps its address for the record
    await lock(s, { ip: '1.2.3.4; } deny all' }); // not an address: must never reach a config file
  });
  afterAll(async () => {
    await s.stop(true);
  });

  test('the locks earned through the pipeline: the real source, never the framed address; the IPv6 client as its /64', async () => {
    const r = await s.get('/v1/blocklist?format=json');
    expect(r.status).toBe(200);
    expect(r.body.entries.map((e: { cidr: string }) => e.cidr)).toEqual(['198.51.100.77/32', '203.0.113.5/32', '2001:db8:aa:bb::/64']);
    const byCidr = Object.fromEntries(r.body.entries.map((e: { cidr: string }) => [e.cidr, e]));
    expect(byCidr['198.51.100.77/32'].expires_at).toBeNull();
    expect(byCidr['203.0.113.5/32'].expires_at).toBeGreaterThan(Date.now());
    expect(r.body.count).toBe(3);
    expect(JSON.stringify(r.body)).not.toContain('10.0.0.1');
    expect(s.logs.join('')).toContain('blocklist: lock rows whose ip is not an address or network were left out');
  });

  test('formats: plain by default and per Accept, JSON when asked for; unknown format or parameter → 400 naming what is accepted', async () => {
    const plain = await s.req('GET', '/v1/blocklist', { key: 'read' });
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(plain.text).toBe('198.51.100.77/32\n203.0.113.5/32\n2001:db8:aa:bb::/64\n');
    const json = await s.req('GET', '/v1/blocklist', { key: 'read', headers: { accept: 'application/json' } });
    expect(json.body.count).toBe(3);
    const bad = await s.get('/v1/blocklist?format=iptables');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/format must be one of plain, text, json, nginx, nftables/);
    // `text` is the wire contract's name for the plain list.
    const text = await s.req('GET', '/v1/blocklist?format=text', { key: 'read' });
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    const typo = await s.get('/v1/blocklist?fromat=nginx');
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatch(/accepts format/);
  });

  test('read role: no key 401, ingest key 403, read and admin keys 200; not in the Grafana self view', async () => {
    expect((await s.req('GET', '/v1/blocklist', { key: null })).status).toBe(401);
    expect((await s.req('GET', '/v1/blocklist', { key: 'ingest' })).status).toBe(403);
    expect((await s.req('GET', '/v1/blocklist', { key: 'read' })).status).toBe(200);
    expect((await s.req('GET', '/v1/blocklist', { key: 'admin' })).status).toBe(200);
    const self = await s.req('GET', '/v1/blocklist', { key: 'read', headers: { 'x-authwatch-self-view': 'true', 'x-grafana-user': 'alice' } });
    expect(self.status).toBe(403);
  });

  test('nginx: "deny CIDR;" lines that nginx -t accepts in a server block', async () => {
    const r = await s.req('GET', '/v1/blocklist?format=nginx', { key: 'read' });
    expect(r.text.split('\n').filter((l) => l.startsWith('deny'))).toEqual(['deny 198.51.100.77/32;', 'deny 203.0.113.5/32;', 'deny 2001:db8:aa:bb::/64;']);
    if (!nginx) return;
    const t = nginxTest(join(s.dir, 'nginx'), r.text);
    expect(t.out).toMatch(/test is successful/);
    expect(t.out).not.toMatch(/\[warn\]|\[emerg\]/);
    expect(t.status).toBe(0);
    // …and the check is real: a broken line fails it.
    expect(nginxTest(join(s.dir, 'nginx-bad'), r.text.replace('/32;', '/33;')).status).not.toBe(0);
  });

  test('nftables: nft -c accepts it; loaded, the sets hold the blocks with their timeouts; loading again replaces them', async () => {
    const r = await s.req('GET', '/v1/blocklist?format=nftables', { key: 'read' });
    expect(r.text).toContain('table inet authwatch {');
    expect(r.text).toMatch(/elements = \{ 198\.51\.100\.77\/32,\n\t+\s*203\.0\.113\.5\/32 timeout \d+s \}/);
    expect(r.text).toMatch(/elements = \{ 2001:db8:aa:bb::\/64 timeout \d+s \}/);
    if (typeof nft === 'string') return;
    const file = join(s.dir, 'blocklist.nft');
    writeFileSync(file, r.text);
    expect(nft(['-c', '-f', file])).toEqual({ status: 0, out: '' });
    // A real load in the private namespace, twice (the timer's sync), then what the kernel holds.
    const loaded = spawnSync('unshare', ['-rn', 'sh', '-c', `'${NFT}' -f '${file}' && '${NFT}' -f '${file}' && '${NFT}' -j list table inet authwatch`], { encoding: 'utf8' });
    expect(loaded.status).toBe(0);
    const sets = (JSON.parse(loaded.stdout).nftables as Record<string, any>[]).filter((o) => o.set).map((o) => o.set);
    const v4 = sets.find((x) => x.name === 'blocklist_v4');
    const elems = v4.elem.map((e: any) => (typeof e === 'string' ? e : e.elem ? { val: e.elem.val, timeout: e.elem.timeout } : e));
    expect(JSON.stringify(elems)).toContain('198.51.100.77');
    // The default policy locks for lock_seconds = 900: the element expires with the lock.
    const timeout = elems.find((e: any) => e.val === '203.0.113.5')?.timeout;
    expect(timeout).toBeGreaterThan(800);
    expect(timeout).toBeLessThanOrEqual(900);
    const chains = (JSON.parse(loaded.stdout).nftables as Record<string, any>[]).filter((o) => o.rule).length;
    expect(chains).toBe(2); // two drop rules, not four: the second load replaced the table
    // And a malformed file is refused by the same check (the check is real).
    writeFileSync(file, r.text.replace('203.0.113.5/32', '203.0.113.0/24, 203.0.113.5/32'));
    expect(nft(['-c', '-f', file]).status).not.toBe(0);
  });

  test('docs/blocklist.md recipe: the sync script loads the blocklist; with a bad key it fails and keeps the last good file; the units verify', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'blocklist.md'), 'utf8');
    const blocks = [...doc.matchAll(/```(sh|ini)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2].replace(/^ {3}/gm, '') }));
    const script = blocks.find((b) => b.lang === 'sh' && b.text.startsWith('#!/bin/sh'))!.text;
    const [service, timer] = blocks.filter((b) => b.lang === 'ini').map((b) => b.text);
    expect(script).toContain('/v1/blocklist?format=nftables');
    if (typeof nft === 'string' || !which('curl')) {
      console.log(`SKIP docs recipe run: ${typeof nft === 'string' ? nft : 'curl is not installed'}`);
      return;
    }
    const dir = join(s.dir, 'recipe');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'sync'), script);
    chmodSync(join(dir, 'sync'), 0o755);
    // nft for the script: the real one, in a private network namespace.
    writeFileSync(join(dir, 'bin', 'nft'), `#!/bin/sh\nexec unshare -rn '${NFT}' "$@"\n`);
    chmodSync(join(dir, 'bin', 'nft'), 0o755);
    writeFileSync(join(dir, 'auth'), `Authorization: Bearer ${KEYS.read}\n`);
    const env = { PATH: `${join(dir, 'bin')}:${testEnv.PATH}`, AUTHWATCH_URL: s.url, AUTHWATCH_AUTH_FILE: join(dir, 'auth'), AUTHWATCH_STATE_DIR: join(dir, 'state') };
    const ok = await runAsync(join(dir, 'sync'), env);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const loaded = readFileSync(join(dir, 'state', 'blocklist.nft'), 'utf8');
    expect(loaded).toMatch(/203\.0\.113\.5\/32 timeout \d+s/);
    writeFileSync(join(dir, 'auth'), 'Authorization: Bearer wrong-key\n');
    const refused = await runAsync(join(dir, 'sync'), env);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/401/);
    expect(readFileSync(join(dir, 'state', 'blocklist.nft'), 'utf8')).toBe(loaded);
    if (!which('systemd-analyze')) {
      console.log('SKIP unit check: systemd-analyze is not installed');
      return;
    }
    writeFileSync(join(dir, 'blocklist.env'), `AUTHWATCH_URL=${s.url}\n`);
    writeFileSync(join(dir, 'authwatch-blocklist.service'), service.replace('/etc/authwatch/blocklist.env', join(dir, 'blocklist.env')).replace('/usr/local/sbin/authwatch-blocklist-sync', join(dir, 'sync')));
    writeFileSync(join(dir, 'authwatch-blocklist.timer'), timer);
    const verify = spawnSync('systemd-analyze', ['verify', join(dir, 'authwatch-blocklist.timer'), join(dir, 'authwatch-blocklist.service')], { encoding: 'utf8' });
    expect(verify.stdout + verify.stderr).toBe('');
    expect(verify.status).toBe(0);
  });
});
