import { Column, filterRows, nextSort, sortRows } from './table';

interface Row {
  user: string;
  failures: number | null;
  country: string;
}

const columns: Array<Column<Row>> = [
  { id: 'user', header: 'User', width: '1fr', sortValue: (r) => r.user, text: (r) => r.user, render: (r) => r.user },
  { id: 'failures', header: 'Failures', width: '1fr', sortValue: (r) => r.failures, render: (r) => r.failures },
  { id: 'country', header: 'Country', width: '1fr', text: (r) => r.country, render: (r) => r.country },
];

const rows: Row[] = [
  { user: 'user-10', failures: 3, country: 'Germany' },
  { user: 'user-2', failures: null, country: 'Japan' },
  { user: 'alice', failures: 12, country: 'Germany' },
  { user: 'bob', failures: 3, country: 'France' },
];

describe('sortRows', () => {
  test('strings sort naturally (user-2 before user-10), numbers numerically', () => {
    expect(sortRows(rows, columns, { columnId: 'user', desc: false }).map((r) => r.user)).toEqual(['alice', 'bob', 'user-2', 'user-10']);
    expect(sortRows(rows, columns, { columnId: 'failures', desc: true }).map((r) => r.failures)).toEqual([12, 3, 3, null]);
  });

  test('empty values go last in both directions and ties keep their order', () => {
    const asc = sortRows(rows, columns, { columnId: 'failures', desc: false });
    expect(asc.map((r) => r.user)).toEqual(['user-10', 'bob', 'alice', 'user-2']);
  });

  test('no sort or a column without a sort value leaves rows as they came', () => {
    expect(sortRows(rows, columns, undefined)).toBe(rows);
    expect(sortRows(rows, columns, { columnId: 'country', desc: false })).toBe(rows);
  });
});

test('filterRows: every term must match some searchable column, case-insensitively', () => {
  expect(filterRows(rows, columns, 'germany').map((r) => r.user)).toEqual(['user-10', 'alice']);
  expect(filterRows(rows, columns, 'GERMANY ali').map((r) => r.user)).toEqual(['alice']);
  expect(filterRows(rows, columns, '  ')).toBe(rows);
  // failures is not searchable
  expect(filterRows(rows, columns, '12')).toEqual([]);
});

test('nextSort cycles first direction → other direction → unsorted', () => {
  let s = nextSort(undefined, 'user');
  expect(s).toEqual({ columnId: 'user', desc: false });
  s = nextSort(s, 'user');
  expect(s).toEqual({ columnId: 'user', desc: true });
  expect(nextSort(s, 'user')).toBeUndefined();
  expect(nextSort(s, 'failures', true)).toEqual({ columnId: 'failures', desc: true });
});
