import { csvCell, readCell } from './csv-cell';

describe('csvCell: spreadsheet formulas come out inert', () => {
  test.each([
    '=1+1', '+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1',
    // Behind leading whitespace or line breaks (spreadsheets skip them before a formula).
    '\n=1+1', '  =1+1', '\r\n-2', '\u00a0=1', '\u3000=1', '\u200b=1', '\ufeff=1',
    // Full-width and small forms, and the minus sign, which spreadsheets read as ASCII.
    '＝1+1', '＋1', '－1', '＠SUM(A1)', '﹦1', '﹢1', '﹣1', '﹫x', '−1',
  ])('%j gets a leading quote', (v) => {
    const cell = csvCell(v);
    const text = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    expect(text).toBe(`'${v}`);
  });

  test.each(['alice', 'a=b', 'a-b', 'user@example.com', '192.0.2.1', '2026-04-01T00:00:00.000Z', '日本'])('%j stays as it is', (v) => {
    expect(csvCell(v)).toBe(v);
  });

  test('numbers stay numbers (a negative latitude is not a formula)', () => {
    expect(csvCell(-33.86)).toBe('-33.86');
  });

  test('quoting: commas, quotes and line breaks', () => {
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell('\n=1+1')).toBe('"\'\n=1+1"');
  });
});

describe('readCell: what the export wrote comes back whole', () => {
  test.each(['=1+1', '\t=1', '  =1+1', '\u00a0=1', '\u200b=1', '＝1+1', '﹣1', '−1', 'alice', "'quoted", "it's", '', '-33.86'])('%j', (v) => {
    const cell = csvCell(v);
    const text = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
    expect(readCell(text)).toBe(v);
  });
});
