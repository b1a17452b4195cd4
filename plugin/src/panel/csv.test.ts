import { lockoutCsvColumns, toCsv } from './csv';
import type { LockoutViewRow } from './types';

test('cells a spreadsheet would execute are neutralised; quotes, commas and newlines are escaped', () => {
  const csv = toCsv(
    [
      ['=HYPERLINK("http://evil")', 'plain'],
      ['+1', 'a,b'],
      ['-2', 'line\nbreak'],
      ['@SUM(A1)', 'say "hi"'],
      ['\tTab', null],
    ],
    [
      { header: 'first', value: (r: Array<string | null>) => r[0] },
      { header: 'second', value: (r: Array<string | null>) => r[1] },
    ]
  );
  expect(csv.split('\r\n')).toEqual([
    'first,second',
    `"'=HYPERLINK(""http://evil"")",plain`,
    `'+1,"a,b"`,
    `'-2,"line\nbreak"`,
    `'@SUM(A1),"say ""hi"""`,
    `'\tTab,`,
    '',
  ]);
});

test('lockout rows export with ISO times and an empty locked_until for permanent locks', () => {
  const row: LockoutViewRow = {
    key: 'user|ivan|',
    user: 'ivan',
    scope: 'user',
    ip: '45.155.205.233',
    failures: 6,
    lockedAt: Date.UTC(2026, 10, 24, 9, 0, 0),
    lockedUntil: null,
    reason: 'too_many_failures',
  };
  expect(toCsv([row], lockoutCsvColumns)).toBe(
    'user,scope,ip,failures,locked_at,locked_until,reason\r\nivan,user,45.155.205.233,6,2026-11-24T09:00:00.000Z,,too_many_failures\r\n'
  );
});
