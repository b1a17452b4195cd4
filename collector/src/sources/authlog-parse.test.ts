// The auth.log parser on realistic sshd/PAM lines (fixtures beside the collector tests): which
// lines become which events, timestamps in both formats, year inference across New Year, zones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuthLogParser, parseAuthLogLine, type AuthLogEvent } from './authlog-parse';
import { offsetFunction, TimeZoneError } from './authlog-time';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const NOW = Date.parse('2026-11-24T12:00:00Z');
const utc = { now: NOW, offset: offsetFunction('UTC') };

function parseFile(name: string, timezone = 'UTC'): AuthLogEvent[] {
  const parse = createAuthLogParser({ timezone, now: () => NOW });
  return readFileSync(join(FIXTURES, name), 'utf8').split('\n').flatMap((l) => parse(l) ?? []);
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

  test('failed password for invalid user, IPv6', () => {
    expect(one('Nov 24 09:17:04 bastion-1 sshd[21022]: Failed password for invalid user test from 2001:db8:85a3::8a2e:370:7334 port 60211 ssh2')).toMatchObject({
      outcome: 'failure', reason: 'invalid_user', user: 'test', ip: '2001:db8:85a3::8a2e:370:7334',
    });
  });

  test('invalid user, max attempts, PAM error, not allowed, preauth close', () => {
    expect(one('Nov 24 09:14:58 h sshd[1]: Invalid user admin from 203.0.113.45 port 51022')).toMatchObject({ reason: 'invalid_user', user: 'admin', ip: '203.0.113.45' });
    expect(one('Nov 24 09:16:29 h sshd[2]: error: maximum authentication attempts exceeded for root from 198.51.100.23 port 40112 ssh2 [preauth]')).toMatchObject({ reason: 'too_many_attempts', user: 'root' });
    expect(one('Nov 24 09:19:15 h sshd[3]: error: PAM: Authentication failure for carol from 192.0.2.10')).toMatchObject({ reason: 'invalid_password', user: 'carol', ip: '192.0.2.10', entry: 'pam' });
    expect(one('Nov 24 09:41:13 h sshd[4]: User mallory from 198.51.100.99 not allowed because not listed in AllowUsers')).toMatchObject({ reason: 'user_not_allowed', user: 'mallory' });
    expect(one('Nov 24 09:18:40 h sshd[5]: Connection closed by authenticating user deploy 192.0.2.77 port 33914 [preauth]')).toMatchObject({ outcome: 'failure', reason: 'preauth_closed', user: 'deploy' });
    expect(one('Nov 24 09:42:00 h sshd[6]: Invalid user  from 203.0.113.200 port 40001')).toMatchObject({ user: '(empty)', ip: '203.0.113.200' });
    expect(one('Nov 24 09:19:15 h sshd[7]: Failed keyboard-interactive/pam for carol from 192.0.2.10 port 50500 ssh2')).toMatchObject({ entry: 'keyboard-interactive', reason: 'invalid_password' });
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
      'Nov 24 09:14:58 bastion-1 sshd[21001]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.45',
      'Nov 24 09:20:01 bastion-1 sshd[21050]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)',
      'Nov 24 09:15:04 bastion-1 sshd[21001]: Connection closed by invalid user admin 203.0.113.45 port 51022 [preauth]',
      'Nov 24 09:43:00 bastion-1 sshd[21080]: Failed publickey for alice from 192.0.2.10 port 50700 ssh2: RSA SHA256:AAA',
      'Nov 24 09:44:10 bastion-1 sshd[21090]: Did not receive identification string from 203.0.113.9 port 39000',
      'garbage',
      '',
    ]) expect(parseAuthLogLine(line, utc)).toBeNull();
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

  test('year inference: December lines read in early January belong to the previous year', () => {
    const jan2 = Date.parse('2027-01-02T08:00:00Z');
    const parse = createAuthLogParser({ timezone: 'UTC', now: () => jan2 });
    const t = (l: string) => new Date(parse(l)![0].time).toISOString();
    expect(t('Dec 31 23:59:58 h sshd[1]: Invalid user a from 192.0.2.1 port 1')).toBe('2026-12-31T23:59:58.000Z');
    expect(t('Jan  1 00:00:03 h sshd[1]: Invalid user a from 192.0.2.1 port 1')).toBe('2027-01-01T00:00:03.000Z');
    expect(t('Jan  2 08:30:00 h sshd[1]: Invalid user a from 192.0.2.1 port 1')).toBe('2027-01-02T08:30:00.000Z'); // minutes ahead of the clock: still this year
  });
});

describe('fixtures', () => {
  test('Debian syslog fixture: the events a user would see', () => {
    const events = parseFile('authlog-debian.log');
    const failures = events.filter((e) => e.outcome === 'failure');
    const byIp: Record<string, number> = {};
    for (const f of failures) byIp[f.ip ?? 'none'] = (byIp[f.ip ?? 'none'] ?? 0) + 1;
    expect(byIp).toEqual({
      '203.0.113.45': 5, '198.51.100.23': 5, '2001:db8:85a3::8a2e:370:7334': 2, '192.0.2.77': 1, '2001:db8::bad:1': 1,
      '192.0.2.10': 2, '198.51.100.99': 2, '203.0.113.200': 1,
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
      'login:failure:invalid_user:ubuntu',
      'login:failure:invalid_password:root',
      'login:failure:invalid_password:root',
      'login:failure:invalid_password:root',
      'login:failure:preauth_closed:root',
      'login:success:null:deploy',
      'logout:success:logout:deploy',
      'logout:success:logout:deploy',
      'login:failure:too_many_attempts:support',
      'login:failure:invalid_password:dave',
    ]);
  });
});
