// A replica's memory of the windows it has seen is a cache of the store's log: bounded in keys and
// in attempts, so an attacker spraying from many addresses cannot grow it with a whole window.
import { AttemptWindow } from './attempt-window';
import { WindowCache } from './shared-windows';

const MIN = 60_000;
const track = { users: true, ips: false };
/** A key's windows (30 and 10 minutes) holding `n` attempts, the last at time t. */
function windows(n: number, t: number) {
  const ws = [new AttemptWindow(30 * MIN, track), new AttemptWindow(10 * MIN, track)];
  for (let i = 0; i < n; i++) {
    const a = { t: t - (n - 1 - i) * 1000, user: `u${i}`, ip: '203.0.113.9', failure: true, unknownUser: false };
    for (const w of ws) w.add(a);
  }
  return { g: 1, n: 1, t: 1, ws };
}

test('the cache holds at most its attempts, counted once per key (the longest window), least recently used out first', () => {
  const cache = new WindowCache(1_000, 30 * MIN, 2_000);
  const t = 1_800_000_000_000;
  for (let k = 0; k < 10; k++) cache.put(`k${k}`, windows(300, t));
  // 300 attempts a key (the 10-minute window holds the same ones): 6 keys fit in 2,000.
  expect(cache.size).toEqual({ keys: 6, attempts: 1_800 });
  expect(cache.take('k3')).toBeUndefined();
  expect(cache.take('k4')?.ws[0].attempts).toBe(300);
  expect(cache.size).toEqual({ keys: 5, attempts: 1_500 });
  // Used again, a key goes to the back: the next put evicts the oldest other key.
  cache.put('k5', cache.take('k5')!);
  cache.put('k10', windows(600, t));
  expect(cache.take('k6')).toBeUndefined();
  expect(cache.take('k5')).toBeDefined();
  expect(cache.size.attempts).toBeLessThanOrEqual(2_000);
});

test('the cache holds at most its keys, and lets go of keys quiet for a whole window', () => {
  const cache = new WindowCache(3, 30 * MIN, 1_000_000);
  const t = 1_800_000_000_000;
  for (let k = 0; k < 5; k++) cache.put(`k${k}`, windows(1, t));
  expect(cache.size.keys).toBe(3);
  cache.put('late', windows(1, t + 31 * MIN));
  cache.expire();
  expect(cache.size).toEqual({ keys: 1, attempts: 1 });
  expect(cache.take('late')).toBeDefined();
});
