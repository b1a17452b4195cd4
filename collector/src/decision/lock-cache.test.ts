// Plain /v1/check answers from memory on SQLite: what it answers must always equal what the store
// says — right after a lock, an unlock, an expiry, and after a restart on the same file.
import { startServer, tempDir, type TestServer } from '../../test/helpers/server';

const fail = (user: string, ip: string) => ({ type: 'login', outcome: 'failure', reason: 'invalid_password', user, ip });

let offset = 0;
const clock = () => Date.now() + offset;
let s: TestServer | undefined;
afterEach(async () => {
  await s?.stop(true);
  s = undefined;
});

async function storeSays(srv: TestServer, user: string): Promise<boolean> {
  return (await srv.get(`/v1/lockouts?user=${user}`, 'read')).body.lockouts.length > 0;
}

test('lock, unlock and expiry are seen at once; a restart rebuilds the locks in force from the store', async () => {
  const dir = tempDir();
  s = await startServer({ dir, clock });
  await s.post('/v1/events', Array.from({ length: 6 }, () => fail('cache-user', '203.0.113.50')));
  expect((await s.post('/v1/check', { user: 'cache-user' })).body).toMatchObject({ allowed: false, reason: 'user_locked' });
  expect(await storeSays(s, 'cache-user')).toBe(true);
  expect((await s.req('POST', '/v1/users/cache-user/unlock')).body).toEqual({ unlocked: 1 });
  expect((await s.post('/v1/check', { user: 'cache-user' })).body).toEqual({ allowed: true });

  // An IP block and a user lock survive a restart (new process memory, same file).
  await s.post('/v1/events', Array.from({ length: 21 }, (_, i) => fail(`spray-${i}`, '198.51.100.60')));
  await s.post('/v1/events', Array.from({ length: 6 }, () => fail('cache-user', '203.0.113.51')));
  await s.stop(false);
  s = await startServer({ dir, clock });
  expect((await s.post('/v1/check', { user: 'nobody', ip: '198.51.100.60' })).body).toMatchObject({ allowed: false, reason: 'ip_blocked' });
  const locked = (await s.post('/v1/check', { user: 'CACHE-USER' })).body;
  expect(locked).toMatchObject({ allowed: false, reason: 'user_locked' });

  // Past lock_seconds (900 s) on the collector's clock: allowed again, as the store says.
  offset += 901_000;
  expect((await s.post('/v1/check', { user: 'cache-user' })).body).toEqual({ allowed: true });
  expect(await storeSays(s, 'cache-user')).toBe(false);
});
