import { Writable } from 'node:stream';
import { createLogger, escapeControl } from './log';

describe('escapeControl', () => {
  test.each([
    ['a\nb', 'a\\nb'],
    ['a\r\nforged line', 'a\\r\\nforged line'],
    ['tab\there', 'tab\\there'],
    ['\u001b[31mred\u001b[0m', '\\u001b[31mred\\u001b[0m'],
    ['nul\u0000', 'nul\\u0000'],
    ['del\u007f c1\u009b', 'del\\u007f c1\\u009b'],
    ['ls\u2028ps\u2029', 'ls\\u2028ps\\u2029'],
    ['bidi\u202eevil\u2066x\u2069', 'bidi\\u202eevil\\u2066x\\u2069'],
    ['lone \ud800 and \udc00', 'lone \\ud800 and \\udc00'],
    ['pair 🙂 日本 CORP\\alice', 'pair 🙂 日本 CORP\\alice'],
  ])('%j → %j', (input, out) => {
    expect(escapeControl(input)).toBe(out);
  });
});

test('log lines are one line each, valid JSON, with terminal controls escaped', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const log = createLogger(sink);
  const nasty = 'x\nFAKE {"level":"error"}\r\u001b[2J\u009b31m\u2028\u202e';
  log.warn(nasty, { user: nasty });
  expect(lines).toHaveLength(1);
  const line = lines[0];
  expect(line.endsWith('\n')).toBe(true);
  expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  const parsed = JSON.parse(line);
  expect(parsed.msg).toBe(nasty);
  expect(parsed.user).toBe(nasty);
});
