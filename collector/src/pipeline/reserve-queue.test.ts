// The reservation queue of stores without their own (PostgreSQL): what a burst of attempt checks
// sees — each answered with its own outcome, in groups of at most MAX_RESERVE_GROUP written while
// at most RESERVE_PARALLEL groups are in flight, and a failed group fails only its own checks.
import { MAX_RESERVE_GROUP, RESERVE_PARALLEL, ReserveQueue } from './reserve-queue';
import type { ReserveOutcome, ReserveRequest } from './reserve-group';

const request = (i: number): ReserveRequest => ({ user: `user-${i}`, ip: null });

test('a burst is written in groups while earlier groups are in flight, each check answered with its own outcome', async () => {
  const groups: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const q = new ReserveQueue(async (group) => {
    groups.push(group.map((r) => r.user));
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, 20));
    inFlight--;
    return group.map((r): ReserveOutcome => ({ ok: true, answer: { allowed: true, attempt_id: `id-${r.user}` } }));
  });
  const n = 100;
  const outcomes = await Promise.all(Array.from({ length: n }, (_, i) => q.reserve(request(i))));
  expect(outcomes.map((o) => (o.ok && o.answer.allowed ? o.answer.attempt_id : null))).toEqual(Array.from({ length: n }, (_, i) => `id-user-${i}`));
  // The first checks go at once, one each; the rest wait and go together.
  expect(groups.slice(0, RESERVE_PARALLEL).map((g) => g.length)).toEqual(Array(RESERVE_PARALLEL).fill(1));
  expect(groups.length).toBeLessThan(n / 4);
  expect(Math.max(...groups.map((g) => g.length))).toBe(MAX_RESERVE_GROUP);
  expect(groups.flat()).toEqual(Array.from({ length: n }, (_, i) => `user-${i}`));
  expect(maxInFlight).toBe(RESERVE_PARALLEL);
});

test('a group whose transaction fails fails its own checks only; the next group is written', async () => {
  let calls = 0;
  const q = new ReserveQueue(async (group) => {
    calls++;
    if (group.some((r) => r.user === 'user-0')) throw new Error('connection lost');
    return group.map((): ReserveOutcome => ({ ok: true, answer: { allowed: true } }));
  });
  const [bad, good] = await Promise.all([q.reserve(request(0)), q.reserve(request(1))]);
  expect(bad).toMatchObject({ ok: false, error: new Error('connection lost') });
  expect(good).toMatchObject({ ok: true, answer: { allowed: true } });
  expect(calls).toBe(2);
  // A store answering fewer outcomes than it was given is an error for the ones left out, not a hang.
  const short = new ReserveQueue(async () => []);
  expect(await short.reserve(request(2))).toMatchObject({ ok: false });
});
