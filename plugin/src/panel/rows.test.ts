// The panel reads exactly what the data source produces: frames built by the data source's own
// frame functions (datasource/frames.ts) from collector-shaped responses.
import { lockoutsFrame, sessionsFrame } from '../datasource/frames';
import type { Lockout, Session } from '@authwatch/wire';
import { isLockoutsFrame, isSessionsFrame, lockoutRows, sessionRows } from './rows';

const session: Session = {
  id: 'a1b2',
  user: 'alice.martin',
  user_id: null,
  ip: '81.2.69.142',
  country: 'GB',
  city: 'London',
  isp: null,
  asn: null,
  browser: 'Chrome',
  os: 'Windows',
  device: null,
  device_type: 'desktop',
  service: 'payments-portal',
  started_at: 1_000,
  last_seen_at: 5_000,
  ended_at: null,
  end_reason: null,
  state: 'active',
};

describe('sessions frame → rows', () => {
  test('every column the table shows', () => {
    const frame = sessionsFrame({ sessions: [session, { ...session, id: 'c3', state: 'ended', ended_at: 9_000, end_reason: 'terminated_by_admin' }] }, { refId: 'A', showDetails: true });
    expect(isSessionsFrame(frame)).toBe(true);
    expect(isLockoutsFrame(frame)).toBe(false);
    expect(sessionRows([frame])).toEqual([
      {
        id: 'a1b2',
        user: 'alice.martin',
        state: 'active',
        ip: '81.2.69.142',
        country: 'GB',
        city: 'London',
        browser: 'Chrome',
        os: 'Windows',
        device: null,
        deviceType: 'desktop',
        service: 'payments-portal',
        startedAt: 1_000,
        lastSeenAt: 5_000,
        endedAt: null,
        endReason: null,
      },
      expect.objectContaining({ id: 'c3', state: 'ended', endedAt: 9_000, endReason: 'terminated_by_admin' }),
    ]);
  });

  test('with the data source hiding details, IP and city are simply empty', () => {
    const frame = sessionsFrame({ sessions: [session] }, { refId: 'A', showDetails: false });
    expect(sessionRows([frame])[0]).toMatchObject({ ip: null, city: null, country: 'GB' });
  });
});

test('lockouts frame → rows, null locked_until kept as "until unlocked"', () => {
  const lockouts: Lockout[] = [
    { id: 1, user: 'ivan.petrov', scope: 'user', ip: '45.155.205.233', failures: 6, locked_at: 100, locked_until: 1_000, reason: 'too_many_failures', state: 'locked', unlocked_at: null, unlocked_by: null },
    { id: 2, user: null, scope: 'ip', ip: '185.220.101.45', failures: 21, locked_at: 200, locked_until: null, reason: 'too_many_failures', state: 'locked', unlocked_at: null, unlocked_by: null },
  ];
  const rows = lockoutRows([lockoutsFrame({ lockouts }, { refId: 'A', showDetails: false })]);
  expect(rows).toEqual([
    { key: 'user|ivan.petrov|45.155.205.233', user: 'ivan.petrov', scope: 'user', ip: '45.155.205.233', failures: 6, lockedAt: 100, lockedUntil: 1_000, reason: 'too_many_failures' },
    { key: 'ip||185.220.101.45', user: null, scope: 'ip', ip: '185.220.101.45', failures: 21, lockedAt: 200, lockedUntil: null, reason: 'too_many_failures' },
  ]);
});
