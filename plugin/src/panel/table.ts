// Column model shared by the sessions and lockouts tables, with sorting and the quick filter.
import type { ReactNode } from 'react';

export interface Column<R> {
  id: string;
  header: string;
  /** CSS grid track, e.g. 'minmax(120px, 1fr)'. */
  width: string;
  /** Value used for sorting; absent = column not sortable. */
  sortValue?: (row: R) => string | number | null;
  /** Text the quick filter searches; absent = not searched. */
  text?: (row: R) => string | null;
  render: (row: R) => ReactNode;
  align?: 'left' | 'right';
}

export interface SortState {
  columnId: string;
  desc: boolean;
}

/** Stable sort by one column; empty values always go last. */
export function sortRows<R>(rows: R[], columns: Array<Column<R>>, sort: SortState | undefined): R[] {
  const column = sort && columns.find((c) => c.id === sort.columnId);
  if (!sort || !column?.sortValue) {
    return rows;
  }
  const value = column.sortValue;
  const dir = sort.desc ? -1 : 1;
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  return rows
    .map((row, index) => ({ row, index, key: value(row) }))
    .sort((a, b) => {
      const aEmpty = a.key === null || a.key === '';
      const bEmpty = b.key === null || b.key === '';
      if (aEmpty || bEmpty) {
        return aEmpty === bEmpty ? a.index - b.index : aEmpty ? 1 : -1;
      }
      const cmp =
        typeof a.key === 'number' && typeof b.key === 'number' ? a.key - b.key : collator.compare(String(a.key), String(b.key));
      return cmp === 0 ? a.index - b.index : cmp * dir;
    })
    .map((x) => x.row);
}

/** Every whitespace-separated term must appear (case-insensitive) in some searchable column. */
export function filterRows<R>(rows: R[], columns: Array<Column<R>>, query: string): R[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) {
    return rows;
  }
  const searchable = columns.filter((c) => c.text);
  return rows.filter((row) => {
    const haystack = searchable
      .map((c) => c.text!(row) ?? '')
      .join('\u0000')
      .toLowerCase();
    return terms.every((t) => haystack.includes(t));
  });
}

/** Header click cycles: ascending → descending → unsorted (the column's natural first direction first). */
export function nextSort(current: SortState | undefined, columnId: string, descFirst = false): SortState | undefined {
  if (!current || current.columnId !== columnId) {
    return { columnId, desc: descFirst };
  }
  if (current.desc === descFirst) {
    return { columnId, desc: !descFirst };
  }
  return undefined;
}
