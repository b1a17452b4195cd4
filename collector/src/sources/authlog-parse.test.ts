// The auth.log parser on realistic sshd/PAM lines (fixtures beside the collector tests): which
// lines become which events, one failure per attempt, injection through user names, timestamps in
// every format, year inference across New Year, zones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuthLogParser, parseAuthLogLine, type AuthLogEvent, type AuthLogMode } from './authlog-parse';
import { offsetFunction, TimeZoneError } from './authlog-time';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const NOW = Date.parse('2026-11-24T12:00:00Z');
const utc = { now: NOW, offset: offsetFunction('UTC') };

function parseLines(lines: string[], mode: AuthLogMode = 'normal'): AuthLogEvent[] {
  const parse = createAuthLogParser({ timezone: 'UTC', now: () => NOW, mode });
  const out = lines.flatMap((l) => parse(l) ?? []);
  return [...out, ...parse.flush()];
}

const parseFile = (name: string, mode: AuthLogMode = 'normal') => parseLines(readFileSync(join(FIXTURES, name), 'utf8').split('\n'), mode);
const failures = (events: AuthLogEvent[]) => events.filter((e) => e.type === 'login' && e.outcome === 'failure');

function perIp(events: AuthLogEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of failures(events)) out[f.ip ?? 'none'] = (out[f.ip ?? 'none'] ?? 0) + 1;
  return out;
}

const one = (line: string) => {
  const r = parseAuthLogLine(line, utc);
  expect(r).toHaveLength(1);
  return r![0];
};

describe('sshd lines → events', () => {
  test('failed password for root: failure, invalid_password, entry password, IPv4', () => {
    expect(one('Nov 24 09:16:22 bastion-1 sshd[21010]: Failed password for root from 198.51.100.23 port 40112 ssh2')).toMatchObject({
      type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'root', ip: '198.51.100.23', entry: 'password', service: 'sshd',
      time: Date.parse('2026-11-24T09:16:22Z'), attributes: { host: 'bastion-1', pid: 21010, port: 40112 },
    });
  });

  test('failed password for invalid user, IPv6; IPv4-mapped IPv6 becomes IPv4', () => {
    expect(one('Nov 24 09:17:04 bastion-1 sshd[21022]: Failed password for invalid user test from 2001:db8:85a3::8a2e:370:7334 port 60211 ssh2')).toMatchObject({
      outcome: 'failure', reason: 'invalid_user', user: 'test', ip: '2001:db8:85a3::8a2e:370:7334',
    });
    expect(one('Mar  3 04:11:05 web1 sshd[2112]: Failed password for invalid user admin from ::ffff:203.0.113.112 port 50112 ssh2').ip).toBe('203.0.113.112');
  });

  test('each message family alone: its event and reason (the table in docs/sources.md)', () => {
    const cases: [string, Partial<AuthLogEvent>][] = [
      ['Invalid user admin from 203.0.113.45 port 51022', { reason: 'invalid_user', user: 'admin', ip: '203.0.113.45' }],
      ['Illegal user test from 203.0.113.101', { reason: 'invalid_user', user: 'test', ip: '203.0.113.101' }],
      ['Invalid user  from 203.0.113.200 port 40001', { reason: 'invalid_user', user: '(empty)' }],
      ['error: maximum authentication attempts exceeded for root from 198.51.100.23 port 40112 ssh2 [preauth]', { reason: 'too_many_attempts', user: 'root' }],
      ['error: PAM: Authentication failure for carol from 192.0.2.10', { reason: 'invalid_password', user: 'carol', ip: '192.0.2.10', entry: 'pam' }],
      ['error: PAM: User not known to the underlying authentication module for illegal user sales from 203.0.113.22', { reason: 'invalid_user', user: 'sales', entry: 'pam' }],
      ['pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.45  user=root', { reason: 'invalid_password', user: 'root', ip: '203.0.113.45', entry: 'pam' }],
      ['pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.45', { reason: 'invalid_password', user: '(unknown)', ip: '203.0.113.45' }],
      ['User mallory from 198.51.100.99 not allowed because not listed in AllowUsers', { reason: 'user_not_allowed', user: 'mallory', ip: '198.51.100.99' }],
      ['User eve from 198.51.100.11 not allowed because listed in DenyUsers', { reason: 'user_not_allowed' }],
      ['User oscar from 198.51.100.13 not allowed because a group is listed in DenyGroups', { reason: 'user_not_allowed' }],
      ["User peggy from 198.51.100.14 not allowed because none of user's groups are listed in AllowGroups", { reason: 'user_not_allowed' }],
      ['User trent from 198.51.100.12 not allowed because not in any group', { reason: 'user_not_allowed' }],
      ['ROOT LOGIN REFUSED FROM 203.0.113.17 port 40017', { reason: 'root_login_refused', user: 'root', ip: '203.0.113.17' }],
      ['refused connect from scanner.example.net (203.0.113.18)', { reason: 'connection_refused', user: '(unknown)', ip: '203.0.113.18' }],
      ['Received disconnect from 203.0.113.20 port 40020:3: com.jcraft.jsch.JSchException: Auth fail [preauth]', { reason: 'auth_failed', ip: '203.0.113.20' }],
      ['Received disconnect from 203.0.113.111: 3: com.jcraft.jsch.JSchException: Auth fail [preauth]', { reason: 'auth_failed', ip: '203.0.113.111' }],
      ['Connection closed by authenticating user deploy 192.0.2.77 port 33914 [preauth]', { reason: 'preauth_closed', user: 'deploy' }],
      ['Disconnected from authenticating user root 2001:db8::bad:1 port 49152 [preauth]', { reason: 'preauth_closed', ip: '2001:db8::bad:1' }],
      ['Connection reset by authenticating user root 203.0.113.34 port 40034 [preauth]', { reason: 'preauth_closed' }],
      ['Connection closed by invalid user admin 203.0.113.45 port 51022 [preauth]', { reason: 'invalid_user', user: 'admin' }],
      ['Disconnecting authenticating user root 203.0.113.3 port 40003: Too many authentication failures [preauth]', { reason: 'too_many_attempts', user: 'root', ip: '203.0.113.3' }],
      ['Disconnecting invalid user test 203.0.113.23 port 40023: Change of username or service not allowed: (test,ssh-connection) -> (root,ssh-connection) [preauth]', { reason: 'user_change_refused', user: 'test', ip: '203.0.113.23' }],
      ['Failed keyboard-interactive/pam for carol from 192.0.2.10 port 50500 ssh2', { entry: 'keyboard-interactive', reason: 'invalid_password' }],
      ['Failed none for invalid user ubnt from 203.0.113.8 port 40008 ssh2', { reason: 'invalid_user', entry: 'none' }],
      ['Failed publickey for invalid user git from 203.0.113.7 port 40007 ssh2: ED25519 SHA256:BBBB', { reason: 'invalid_user', entry: 'publickey' }],
      ['User bob not allowed because account is locked', { reason: 'account_disabled', user: 'bob', ip: null }],
    ];
    for (const [msg, want] of cases) expect([msg, one(`Nov 24 10:00:00 gw sshd[77]: ${msg}`)]).toEqual([msg, expect.objectContaining({ type: 'login', outcome: 'failure', service: 'sshd', ...want })]);
  });

  test('probe families (no user involved) are failures only in the fail2ban mode that counts them', () => {
    const probes: [string, string, AuthLogMode][] = [
      ['Did not receive identification string from 203.0.113.24 port 40024', 'no_identification', 'ddos'],
      ["Bad protocol version identification 'GET / HTTP/1.1' from 203.0.113.27 port 40027", 'bad_protocol', 'ddos'],
      ['banner exchange: Connection from 203.0.113.26 port 40026: invalid format', 'bad_protocol', 'ddos'],
      ['Connection closed by 203.0.113.28 port 40028 [preauth]', 'preauth_disconnect', 'ddos'],
      ['Connection reset by 203.0.113.29 port 40029 [preauth]', 'preauth_disconnect', 'ddos'],
      ['Received disconnect from 203.0.113.30 port 40030:14: No supported authentication methods available [preauth]', 'no_auth_methods', 'extra'],
      ['Unable to negotiate with 203.0.113.31 port 40031: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]', 'negotiation_failed', 'extra'],
    ];
    for (const [msg, reason, mode] of probes) {
      const line = `Nov 24 10:00:00 gw sshd[77]: ${msg}`;
      expect([msg, parseLines([line], 'normal')]).toEqual([msg, []]);
      expect([msg, failures(parseLines([line], mode)).map((e) => [e.reason, e.user, e.ip])]).toEqual([msg, [[reason, '(unknown)', expect.stringMatching(/^203\.0\.113\./)]]]);
      expect(failures(parseLines([line], 'aggressive'))).toHaveLength(1);
      expect(failures(parseLines([line], mode === 'ddos' ? 'extra' : 'ddos'))).toHaveLength(0);
    }
    // Address-less probes take the address from the connection's next line.
    const kex = ['Nov 24 10:04:30 gw sshd[1025]: error: kex_exchange_identification: Connection closed by remote host', 'Nov 24 10:04:30 gw sshd[1025]: Connection closed by 203.0.113.25 port 40025'];
    expect(failures(parseLines(kex, 'ddos')).map((e) => [e.reason, e.ip])).toEqual([['no_identification', '203.0.113.25']]);
    const oldKex = ['Mar  3 04:10:45 web1 sshd[2108]: Connection from 203.0.113.108 port 50108', 'Mar  3 04:10:45 web1 sshd[2108]: fatal: Unable to negotiate a key exchange method [preauth]'];
    expect(failures(parseLines(oldKex, 'extra')).map((e) => [e.reason, e.ip])).toEqual([['negotiation_failed', '203.0.113.108']]);
  });

  test('accepted password / publickey: success with the sshd pid as session id', () => {
    expect(one('Nov 24 09:20:01 bastion-1 sshd[21050]: Accepted publickey for alice from 192.0.2.10 port 50622 ssh2: ED25519 SHA256:abc')).toMatchObject({
      type: 'login', outcome: 'success', user: 'alice', entry: 'publickey', session_id: 'bastion-1/sshd[21050]',
    });
    expect(one('Nov 24 09:25:12 bastion-1 sshd[21061]: Accepted password for bob from 2001:db8:1::42 port 55110 ssh2')).toMatchObject({ entry: 'password', ip: '2001:db8:1::42' });
  });

  test('"Disconnected from user" and "session closed" are one logout of the same session', () => {
    const a = one('Nov 24 09:31:07 bastion-1 sshd[21050]: Disconnected from user alice 192.0.2.10 port 50622');
    const b = one('Nov 24 09:31:07 bastion-1 sshd[21050]: pam_unix(sshd:session): session closed for user alice');
    expect(a).toMatchObject({ type: 'logout', user: 'alice', session_id: 'bastion-1/sshd[21050]', ip: '192.0.2.10' });
    expect(b).toMatchObject({ type: 'logout', user: 'alice', session_id: 'bastion-1/sshd[21050]' });
    expect(a.id).toBe(b.id); // the second is a duplicate for the collector's idempotency
  });

  test('"message repeated N times" gives N failures with distinct stable ids', () => {
    const line = 'Nov 24 09:16:26 bastion-1 sshd[21010]: message repeated 3 times: [ Failed password for root from 198.51.100.23 port 40112 ssh2]';
    const r = parseAuthLogLine(line, utc)!;
    expect(r.map((e) => [e.reason, e.user, e.ip])).toEqual(Array(3).fill(['invalid_password', 'root', '198.51.100.23']));
    expect(new Set(r.map((e) => e.id)).size).toBe(3);
    expect(parseAuthLogLine(line, utc)!.map((e) => e.id)).toEqual(r.map((e) => e.id));
  });

  test('lines that are not login events give null', () => {
    for (const line of [
      'Nov 24 06:25:01 bastion-1 CRON[20311]: pam_unix(cron:session): session closed for user root',
      'Nov 24 09:21:45 bastion-1 sudo: pam_unix(sudo:session): session closed for user root',
      'Nov 24 09:20:01 bastion-1 sshd[21050]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)',
      'Nov 24 09:43:00 bastion-1 sshd[21080]: Failed publickey for alice from 192.0.2.10 port 50700 ssh2: RSA SHA256:AAA',
      'Nov 24 09:44:10 bastion-1 sshd[21090]: Did not receive identification string from 203.0.113.9 port 39000',
      'Nov 24 09:44:10 bastion-1 sshd[21091]: Connection closed by 203.0.113.9 port 39001',
      'Nov 24 09:44:10 bastion-1 sshd[21092]: Received disconnect from 192.0.2.10 port 50622:11: disconnected by user',
      'Nov 24 09:44:10 bastion-1 sshd[21093]: Postponed keyboard-interactive for invalid user x from 203.0.113.9 port 39002 ssh2 [preauth]',
      'Nov 24 09:44:10 bastion-1 sshd[21094]: Connection from 203.0.113.9 port 39003 on 10.0.0.4 port 22 rdomain ""',
      'Jun 15 04:06:19 combo su(pam_unix)[21416]: session closed for user cyrus',
      'garbage',
      '',
    ]) expect([line, parseAuthLogLine(line, utc)]).toEqual([line, null]);
  });
});

describe('attempts, not lines', () => {
  test('one connection, one failed password: "Invalid user", PAM lines, "Failed", "Connection closed" are one failure', () => {
    const evs = parseLines([
      'Nov 24 10:00:01 gw sshd[1001]: Invalid user admin from 203.0.113.1 port 40001',
      'Nov 24 10:00:01 gw sshd[1001]: pam_unix(sshd:auth): check pass; user unknown',
      'Nov 24 10:00:01 gw sshd[1001]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.1',
      'Nov 24 10:00:03 gw sshd[1001]: Failed password for invalid user admin from 203.0.113.1 port 40001 ssh2',
      'Nov 24 10:00:04 gw sshd[1001]: Connection closed by invalid user admin 203.0.113.1 port 40001 [preauth]',
    ]);
    expect(evs.map((e) => [e.reason, e.user, e.ip, e.entry, new Date(e.time).toISOString()])).toEqual([['invalid_user', 'admin', '203.0.113.1', 'password', '2026-11-24T10:00:01.000Z']]);
  });

  test('a Failed password then "Connection closed by authenticating user … [preauth]" is one failure, not two', () => {
    const evs = parseLines([
      'Nov 24 10:00:12 gw sshd[1002]: Failed password for root from 203.0.113.2 port 40002 ssh2',
      'Nov 24 10:00:19 gw sshd[1002]: Connection closed by authenticating user root 203.0.113.2 port 40002 [preauth]',
    ]);
    expect(failures(evs)).toHaveLength(1);
  });

  test('six tries up to MaxAuthTries are six failures; the max-attempts and Disconnecting lines and "PAM 5 more" add none', () => {
    const lines = readFileSync(join(FIXTURES, 'authlog-families.log'), 'utf8').split('\n').filter((l) => l.includes('sshd[1003]'));
    expect(lines).toHaveLength(9);
    expect(failures(parseLines(lines)).map((e) => e.reason)).toEqual(Array(6).fill('invalid_password'));
  });

  test('"PAM N more authentication failures" adds what the connection did not log (legacy logs log nothing else)', () => {
    const legacy = parseFile('authlog-legacy-pam.log');
    expect(failures(legacy).filter((e) => e.attributes?.pid === 23397)).toHaveLength(3);
    const modern = parseLines([
      'Nov 24 10:00:12 gw sshd[9]: Failed password for root from 203.0.113.2 port 40002 ssh2',
      'Nov 24 10:00:19 gw sshd[9]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.2  user=root',
    ]);
    expect(failures(modern).map((e) => e.ip)).toEqual(['203.0.113.2', '203.0.113.2', '203.0.113.2']);
  });

  test('a lead line of another connection on the same pid (reuse, new address) starts a new attempt', () => {
    const evs = parseLines([
      'Nov 24 10:00:01 gw sshd[5]: Invalid user a from 203.0.113.1 port 1',
      'Nov 24 10:00:02 gw sshd[5]: Connection closed by invalid user a 203.0.113.1 port 1 [preauth]',
      'Nov 24 10:00:03 gw sshd[5]: Invalid user b from 203.0.113.2 port 2',
      'Nov 24 10:00:04 gw sshd[5]: Failed password for invalid user b from 203.0.113.2 port 2 ssh2',
    ]);
    expect(failures(evs).map((e) => `${e.user}@${e.ip}`)).toEqual(['a@203.0.113.1', 'b@203.0.113.2']);
  });

  test('state per connection is bounded and times out; an open attempt is emitted when its connection is closed', () => {
    const parse = createAuthLogParser({ timezone: 'UTC', now: () => NOW, maxConnections: 100, connectionTimeoutMs: 600_000 });
    const out: AuthLogEvent[] = [];
    // 1,000 connections that each opened an attempt ("Invalid user") and said nothing more.
    for (let i = 0; i < 1000; i++) out.push(...(parse(`Nov 24 10:00:00 gw sshd[${10_000 + i}]: Invalid user u${i} from 203.0.113.${i % 250} port ${1000 + i}`) ?? []));
    expect(parse.tracked).toBe(100);
    expect(parse.stats.evicted).toBe(900);
    expect(out).toHaveLength(900); // the evicted ones, each once
    // Ten minutes later (log time) every quiet connection is closed on the next line.
    out.push(...(parse('Nov 24 10:10:01 gw sshd[99999]: Accepted publickey for alice from 192.0.2.1 port 1 ssh2') ?? []));
    expect(parse.tracked).toBe(1);
    expect(failures(out)).toHaveLength(1000);
    expect(new Set(out.map((e) => e.user)).size).toBe(1001);
    expect(parse.flush()).toEqual([]);
  });

  test('live input gone quiet: an open attempt is emitted after idleMs of wall time', () => {
    const parse = createAuthLogParser({ timezone: 'UTC', now: () => NOW });
    expect(parse('Nov 24 10:00:01 gw sshd[1]: Invalid user admin from 203.0.113.1 port 40001')).toBeNull();
    expect(parse.expireIdle(Date.now(), 60_000)).toEqual([]);
    expect(parse.expireIdle(Date.now() + 61_000, 60_000).map((e) => e.user)).toEqual(['admin']);
    expect(parse.flush()).toEqual([]);
  });
});

describe('injection: client text never supplies the address', () => {
  test('the fixture of fail2ban-history cases: failures for 203.0.113.5, never for 10.0.0.1', () => {
    for (const mode of ['normal', 'aggressive'] as const) {
      const evs = parseFile('authlog-injection.log', mode);
      const byIp = perIp(evs);
      expect(byIp['10.0.0.1']).toBeUndefined();
      expect(JSON.stringify(evs.map((e) => [e.ip, e.attributes]))).not.toContain('"10.0.0.1"');
      expect(byIp['203.0.113.5']).toBe(mode === 'normal' ? 17 : 19);
      // 4014 alone: a certificate id and a user name on both sides of two candidates → no address.
      expect(byIp.none).toBe(1);
    }
  });

  test('the issue\'s case: 25 crafted lines are 25 failures of 203.0.113.5', () => {
    const line = (i: number) => `Nov 24 11:00:${String(i).padStart(2, '0')} gw sshd[${4000 + i}]: Failed password for invalid user admin0 from 10.0.0.1 port 22 from 203.0.113.5 port ${40000 + i} ssh2`;
    const evs = parseLines(Array.from({ length: 25 }, (_, i) => line(i)));
    expect(perIp(evs)).toEqual({ '203.0.113.5': 25 });
    expect(evs[0].user).toBe('admin0 from 10.0.0.1 port 22');
  });
});

describe('host names, legacy PAM, line heads', () => {
  test('a host name in rhost= / "from" is kept as attribute host_name, never as ip', () => {
    const evs = parseFile('authlog-legacy-pam.log');
    const named = failures(evs).filter((e) => e.attributes?.host_name);
    expect(named.map((e) => [e.ip, e.attributes?.host_name])).toEqual([
      [null, '220-135-151-1.hinet-ip.hinet.net'], [null, '220-135-151-1.hinet-ip.hinet.net'], [null, '061092085098.ctinets.com'],
    ]);
    // The connection's address from its Failed line, the name from its "not allowed" line.
    const both = failures(parseFile('authlog-families.log')).find((e) => e.attributes?.pid === 1037)!;
    expect([both.ip, both.attributes?.host_name, both.reason]).toEqual(['203.0.113.37', 'bad.example.org', 'user_not_allowed']);
  });

  test('legacy sshd(pam_unix)[pid] lines count, "check pass" and su lines do not; their session-closed is a logout', () => {
    const evs = parseFile('authlog-legacy-pam.log');
    expect(perIp(evs)).toEqual({ '218.188.2.4': 5, none: 3, '202.181.236.180': 1 });
    expect(evs.filter((e) => e.type === 'logout').map((e) => e.user)).toEqual(['test']);
  });

  test('bare journald lines ("host sshd[pid]: …", no timestamp) use the receive time', () => {
    const parse = createAuthLogParser({ timezone: 'UTC', now: () => NOW });
    const evs = [...(parse('srv sshd[13709]: Failed password for root from 203.0.113.9 port 5555 ssh2') ?? []), ...(parse('sshd-session[13710]: Invalid user x from 203.0.113.10 port 5556') ?? []), ...parse.flush()];
    expect(evs.map((e) => [e.ip, e.time, e.attributes?.host])).toEqual([['203.0.113.9', NOW, 'srv'], ['203.0.113.10', NOW, '-']]);
  });
});

describe('timestamps', () => {
  test('RFC 3339 lines keep their own offset and sub-second precision; sshd-session is sshd', () => {
    const e = one('2026-11-24T09:52:00.010000+01:00 web-2 sshd-session[3320]: Accepted publickey for deploy from 198.51.100.5 port 60000 ssh2: ED25519 SHA256:kq9');
    expect(e.time).toBe(Date.parse('2026-11-24T08:52:00.010Z'));
    expect(e.session_id).toBe('web-2/sshd[3320]');
  });

  test('syslog times use the timezone option (fixed offset, IANA with DST, UTC)', () => {
    const line = 'Jul  4 10:00:00 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2';
    const at = (tz: string) => createAuthLogParser({ timezone: tz, now: () => NOW })(line)![0].time;
    expect(at('UTC')).toBe(Date.parse('2026-07-04T10:00:00Z'));
    expect(at('+05:30')).toBe(Date.parse('2026-07-04T04:30:00Z'));
    expect(at('Europe/Berlin')).toBe(Date.parse('2026-07-04T08:00:00Z')); // CEST
    const winter = createAuthLogParser({ timezone: 'Europe/Berlin', now: () => NOW })('Nov 24 10:00:00 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2')![0].time;
    expect(winter).toBe(Date.parse('2026-11-24T09:00:00Z')); // CET
    expect(() => createAuthLogParser({ timezone: 'Mars/Olympus' })).toThrow(TimeZoneError);
  });

  test('year inference never gives a future time: December in January is last year; 5 min–1 day ahead is skipped and counted', () => {
    const jan2 = Date.parse('2027-01-02T08:00:00Z');
    const parse = createAuthLogParser({ timezone: 'UTC', now: () => jan2 });
    const t = (l: string) => {
      const r = [...(parse(l) ?? []), ...parse.flush()];
      return r.length ? new Date(r[0].time).toISOString() : null;
    };
    expect(t('Dec 31 23:59:58 h sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2')).toBe('2026-12-31T23:59:58.000Z');
    expect(t('Jan  1 00:00:03 h sshd[2]: Failed password for root from 192.0.2.1 port 1 ssh2')).toBe('2027-01-01T00:00:03.000Z');
    expect(t('Jan  2 08:04:00 h sshd[3]: Failed password for root from 192.0.2.1 port 1 ssh2')).toBe('2027-01-02T08:04:00.000Z'); // within the 5 min the collector accepts
    expect(t('Jan  2 08:30:00 h sshd[4]: Failed password for root from 192.0.2.1 port 1 ssh2')).toBeNull(); // a wrong zone or clock, not last year
    expect(parse.stats.badTime).toBe(1);
  });
});

describe('fixtures', () => {
  test('Debian syslog fixture: the events a user would see', () => {
    const events = parseFile('authlog-debian.log');
    expect(perIp(events)).toEqual({
      '203.0.113.45': 3, '198.51.100.23': 5, '2001:db8:85a3::8a2e:370:7334': 1, '192.0.2.77': 1, '2001:db8::bad:1': 1,
      '192.0.2.10': 1, '198.51.100.99': 1, '203.0.113.200': 1,
    });
    expect(events.filter((e) => e.outcome === 'success' && e.type === 'login').map((e) => `${e.user} ${e.entry}`)).toEqual([
      'carol keyboard-interactive', 'alice publickey', 'bob password', 'alice publickey',
    ]);
    expect(events.filter((e) => e.type === 'logout').map((e) => e.user)).toEqual(['alice', 'alice', 'bob']);
  });

  test('RFC 3339 fixture', () => {
    const events = parseFile('authlog-rfc3339.log');
    expect(events.map((e) => `${e.type}:${e.outcome}:${e.reason}:${e.user}`)).toEqual([
      'login:failure:invalid_user:ubuntu',
      'login:failure:invalid_password:root',
      'login:failure:invalid_password:root',
      'login:failure:invalid_password:root',
      'login:success:null:deploy',
      'logout:success:logout:deploy',
      'logout:success:logout:deploy',
      'login:failure:too_many_attempts:support',
      'login:failure:invalid_password:dave',
    ]);
  });
});
