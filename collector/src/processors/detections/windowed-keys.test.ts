import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AttemptWindow, type SerializedWindow } from './attempt-window';
import { WindowedKeys } from './windowed-keys';

const MIN = 60_000;
const attempt = (t: number, user: string, failure = true) => ({ t, user, ip: '198.51.100.7', failure, unknownUser: false });

test('keys quiet for a whole window are freed, not kept until the cap', () => {
  const keys = new WindowedKeys([2 * MIN], { users: false, ips: true }, 10 * MIN, 100_000);
  for (let i = 0; i < 10_000; i++) keys.add(`user${i}`, attempt(i, `user${i}`));
  keys.expire();
  expect(keys.size.windows).toBe(10_000);
  // Time moves on past the window: only the key still active keeps state.
  keys.add('alice', attempt(3 * MIN, 'alice'));
  keys.expire();
  expect(keys.size.windows).toBe(1);
});

test('a key still inside its window keeps its count across an expiry', () => {
  const keys = new WindowedKeys([2 * MIN], { users: false, ips: true }, 10 * MIN, 100);
  keys.add('bob', attempt(0, 'bob'));
  keys.add('bob', attempt(MIN, 'bob'));
  keys.expire();
  expect(keys.add('bob', attempt(MIN + 1000, 'bob'))[0].failures).toBe(3);
});

test('the cooldown outlives the window: a key that fired stays quiet until the cooldown has passed', () => {
  const keys = new WindowedKeys([2 * MIN], { users: false, ips: true }, 10 * MIN, 100);
  keys.add('carol', attempt(0, 'carol'));
  expect(keys.mayFire(0, 'carol', 0)).toBe(true);
  keys.add('dave', attempt(5 * MIN, 'dave'));
  keys.expire();
  expect(keys.size).toEqual({ windows: 1, cooldowns: 1 });
  expect(keys.mayFire(0, 'carol', 5 * MIN)).toBe(false);
  keys.add('dave', attempt(11 * MIN, 'dave'));
  keys.expire();
  expect(keys.size.cooldowns).toBe(0);
  expect(keys.mayFire(0, 'carol', 11 * MIN)).toBe(true);
});

test('detections sharing a key each count over their own window and keep their own cooldown', () => {
  // A 30-minute and a 10-minute window on one address, as spray and stuffing have.
  const keys = new WindowedKeys([30 * MIN, 10 * MIN], { users: true, ips: false }, 10 * MIN, 100);
  for (let i = 0; i < 6; i++) keys.add('ip', attempt(i * 5 * MIN, `u${i}`));
  const [long, short] = keys.add('ip', attempt(30 * MIN, 'u6'));
  // At 30 min: the long window holds 5..30 min (6 attempts), the short one 25 and 30 min.
  expect([long.failures, long.distinctUsers]).toEqual([6, 6]);
  expect([short.failures, short.distinctUsers]).toEqual([2, 2]);
  expect(keys.mayFire(1, 'ip', 30 * MIN)).toBe(true);
  // One detection firing leaves the other's cooldown alone.
  expect(keys.mayFire(0, 'ip', 30 * MIN)).toBe(true);
  expect(keys.mayFire(1, 'ip', 31 * MIN)).toBe(false);
  // The key is freed only once the longest window has passed.
  keys.add('other', attempt(45 * MIN, 'x'));
  keys.expire();
  expect(keys.size.windows).toBe(2);
  keys.add('other', attempt(61 * MIN, 'x'));
  keys.expire();
  expect(keys.size.windows).toBe(1);
});

test('a window saved and read back counts the same, in less text than full attempts; windows saved before still read', () => {
  const T = Date.UTC(2026, 10, 26);
  for (const track of [
    { users: true, ips: false },
    { users: false, ips: true },
  ]) {
    const w = new AttemptWindow(30 * MIN, track);
    // Out of order, some out of the window, unknown users among them.
    const times = [0, 5, 3, 40, 41, 38, 45, 44, 60, 59];
    times.forEach((m, i) => w.add({ t: T + m * MIN, user: `user${i % 4}`, ip: `203.0.113.${i % 3}`, failure: i % 3 !== 0, unknownUser: i % 5 === 0 }));
    const counts = (x: AttemptWindow) => [x.attempts, x.failures, x.unknownUserFailures, x.failingUsers, x.distinctUsers, x.distinctIps, x.latestTime];
    const saved = w.toJSON();
    expect(counts(AttemptWindow.fromJSON(30 * MIN, track, JSON.parse(JSON.stringify(saved))))).toEqual(counts(w));
    // The same attempts as first saved: full, absolute times.
    const full = { e: saved.e.map((x) => (x.length === 3 ? [saved.b! + x[0], track.users ? x[1] : 'user?', track.users ? '203.0.113.9' : x[1], x[2]] : x)) };
    expect(counts(AttemptWindow.fromJSON(30 * MIN, track, full as SerializedWindow))).toEqual(counts(w));
    expect(JSON.stringify(saved).length).toBeLessThan(0.75 * JSON.stringify(full).length);
  }
});

test('a window counts exactly what a recount of its live attempts gives, in any order of arrival', () => {
  // The model: attempts in arrival order; the oldest arrivals leave once out of the window
  // (relative to the newest time seen) or beyond 10,000. Every count is recomputed from scratch.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const track of [
    { users: true, ips: false },
    { users: false, ips: true },
    { users: true, ips: true },
  ]) {
    for (let run = 0; run < 40; run++) {
      const w = new AttemptWindow(10 * MIN, track);
      const live: { t: number; user: string; ip: string | null; failure: boolean; unknownUser: boolean }[] = [];
      let newest = -Infinity;
      const names = 1 + Math.floor(rand() * 6);
      for (let i = 0; i < 60; i++) {
        // Mostly forward in time, sometimes back; a few names, so names leave and come back.
        const t = Math.max(0, (newest === -Infinity ? 0 : newest) + Math.floor((rand() - 0.2) * 4 * MIN));
        const a = { t, user: `u${Math.floor(rand() * names)}`, ip: rand() < 0.1 ? null : `192.0.2.${Math.floor(rand() * names)}`, failure: rand() < 0.6, unknownUser: false };
        a.unknownUser = a.failure && rand() < 0.3;
        w.add(a);
        live.push(a);
        newest = Math.max(newest, t);
        while (live.length && live[0].t <= newest - 10 * MIN) live.shift();
        const failing = new Set(live.filter((x) => x.failure).map((x) => x.user));
        expect([w.attempts, w.failures, w.unknownUserFailures, w.failingUsers, w.distinctUsers, w.distinctIps, w.latestTime]).toEqual([
          live.length,
          live.filter((x) => x.failure).length,
          live.filter((x) => x.unknownUser).length,
          track.users ? failing.size : 0,
          track.users ? new Set(live.map((x) => x.user)).size : 0,
          track.ips ? new Set(live.filter((x) => x.ip).map((x) => x.ip)).size : 0,
          newest,
        ]);
        expect(new Set(w.sampleUsers(100))).toEqual(track.users ? new Set(live.map((x) => x.user)) : new Set());
      }
    }
  }
});

test('an attacker who invents 100,000 addresses fills the key cap with under 1 kB of heap per address', () => {
  // The address windows as the spray and stuffing detections keep them (30 and 10 minutes), each
  // address tried once: what rotating through addresses (IPv6 makes that cheap) costs memory
  // until the cap. Two Maps per window made it 1.7 kB per address (170 MB at the default cap).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const n = 100_000;
  const before = heap();
  const keys = new WindowedKeys([30 * MIN, 10 * MIN], { users: true, ips: false }, 15 * MIN, n);
  for (let i = 0; i < n; i++) {
    const ip = `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    keys.add(ip, { t: i, user: `user${i % 5000}`, ip, failure: i % 4 === 0, unknownUser: false });
  }
  const perKey = (heap() - before) / n;
  expect(keys.size.windows).toBe(n);
  expect(perKey).toBeLessThan(1000);
});
