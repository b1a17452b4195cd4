import { WindowedKeys } from './windowed-keys';

const MIN = 60_000;
const attempt = (t: number, user: string, failure = true) => ({ t, user, ip: '198.51.100.7', failure, unknownUser: false });

test('keys quiet for a whole window are freed, not kept until the cap', () => {
  const keys = new WindowedKeys(2 * MIN, { users: false, ips: true }, 10 * MIN, 100_000);
  for (let i = 0; i < 10_000; i++) keys.add(`user${i}`, attempt(i, `user${i}`));
  keys.expire();
  expect(keys.size.windows).toBe(10_000);
  // Time moves on past the window: only the key still active keeps state.
  keys.add('alice', attempt(3 * MIN, 'alice'));
  keys.expire();
  expect(keys.size.windows).toBe(1);
});

test('a key still inside its window keeps its count across an expiry', () => {
  const keys = new WindowedKeys(2 * MIN, { users: false, ips: true }, 10 * MIN, 100);
  keys.add('bob', attempt(0, 'bob'));
  keys.add('bob', attempt(MIN, 'bob'));
  keys.expire();
  expect(keys.add('bob', attempt(MIN + 1000, 'bob')).failures).toBe(3);
});

test('the cooldown outlives the window: a key that fired stays quiet until the cooldown has passed', () => {
  const keys = new WindowedKeys(2 * MIN, { users: false, ips: true }, 10 * MIN, 100);
  keys.add('carol', attempt(0, 'carol'));
  expect(keys.mayFire('carol', 0)).toBe(true);
  keys.add('dave', attempt(5 * MIN, 'dave'));
  keys.expire();
  expect(keys.size).toEqual({ windows: 1, cooldowns: 1 });
  expect(keys.mayFire('carol', 5 * MIN)).toBe(false);
  keys.add('dave', attempt(11 * MIN, 'dave'));
  keys.expire();
  expect(keys.size.cooldowns).toBe(0);
  expect(keys.mayFire('carol', 11 * MIN)).toBe(true);
});
