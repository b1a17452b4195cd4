// A sortable table that renders only the rows in view (@tanstack/react-virtual), so 10k+ rows
// scroll smoothly. Header and rows share one CSS grid template and one scroll container.
import React, { useRef } from 'react';
import { css, cx } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Icon, useStyles2 } from '@grafana/ui';
import { useVirtualizer } from '@tanstack/react-virtual';

import type { Column, SortState } from '../table';

export const ROW_HEIGHT = 40;
const HEADER_HEIGHT = 36;

interface Props<R> {
  rows: R[];
  columns: Array<Column<R>>;
  rowKey: (row: R) => string;
  sort: SortState | undefined;
  onSort: (columnId: string) => void;
  height: number;
  /** Accessible name of the grid. */
  label: string;
  rowClassName?: (row: R) => string | undefined;
}

export function VirtualTable<R>({ rows, columns, rowKey, sort, onSort, height, label, rowClassName }: Props<R>) {
  const styles = useStyles2(getStyles);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    // First paint before the scroll element is measured: assume the panel height.
    initialRect: { width: 0, height },
  });
  const template = columns.map((c) => c.width).join(' ');
  const items = virtualizer.getVirtualItems();

  return (
    <div
      ref={scrollRef}
      className={styles.scroll}
      style={{ height }}
      role="grid"
      aria-label={label}
      aria-rowcount={rows.length + 1}
      data-testid="authwatch-table"
    >
      <div className={styles.header} style={{ gridTemplateColumns: template }} role="row" aria-rowindex={1}>
        {columns.map((column) => {
          const sorted = sort?.columnId === column.id ? sort : undefined;
          const ariaSort = sorted ? (sorted.desc ? 'descending' : 'ascending') : 'none';
          return (
            <div key={column.id} role="columnheader" aria-sort={ariaSort} className={cx(styles.headerCell, column.align === 'right' && styles.right)}>
              {column.sortValue ? (
                <button type="button" className={styles.sortButton} onClick={() => onSort(column.id)}>
                  {column.header}
                  {sorted && <Icon name={sorted.desc ? 'arrow-down' : 'arrow-up'} size="sm" />}
                </button>
              ) : (
                column.header
              )}
            </div>
          );
        })}
      </div>
      <div className={styles.body} style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const row = rows[item.index];
          return (
            <VirtualRow
              key={rowKey(row)}
              row={row}
              index={item.index}
              start={item.start}
              size={item.size}
              columns={columns}
              template={template}
              className={cx(styles.row, rowClassName?.(row))}
              cellClassName={styles.cell}
              rightClassName={styles.right}
            />
          );
        })}
      </div>
    </div>
  );
}

interface RowProps<R> {
  row: R;
  index: number;
  start: number;
  size: number;
  columns: Array<Column<R>>;
  template: string;
  className: string;
  cellClassName: string;
  rightClassName: string;
}

/**
 * One row; memoized so scrolling renders only the rows that come into view (cells format dates
 * and build tooltips, which is too much to redo for every visible row on every frame).
 */
function RowView<R>({ row, index, start, size, columns, template, className, cellClassName, rightClassName }: RowProps<R>) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      data-row-index={index}
      className={className}
      style={{ gridTemplateColumns: template, height: size, transform: `translateY(${start}px)` }}
    >
      {columns.map((column) => (
        <div key={column.id} role="gridcell" className={cx(cellClassName, column.align === 'right' && rightClassName)}>
          {column.render(row)}
        </div>
      ))}
    </div>
  );
}

const VirtualRow = React.memo(RowView) as typeof RowView;

const getStyles = (theme: GrafanaTheme2) => ({
  scroll: css({
    overflow: 'auto',
    position: 'relative',
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.primary,
  }),
  header: css({
    display: 'grid',
    position: 'sticky',
    top: 0,
    zIndex: 1,
    height: HEADER_HEIGHT,
    minWidth: 'fit-content',
    background: theme.colors.background.secondary,
    borderBottom: `1px solid ${theme.colors.border.medium}`,
  }),
  headerCell: css({
    display: 'flex',
    alignItems: 'center',
    padding: theme.spacing(0, 1),
    fontWeight: theme.typography.fontWeightMedium,
    color: theme.colors.text.secondary,
    whiteSpace: 'nowrap',
    overflow: 'hidden',
  }),
  sortButton: css({
    display: 'inline-flex',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    background: 'none',
    border: 'none',
    padding: 0,
    font: 'inherit',
    color: 'inherit',
    cursor: 'pointer',
    '&:hover': { color: theme.colors.text.primary },
  }),
  body: css({ position: 'relative', minWidth: 'fit-content' }),
  row: css({
    display: 'grid',
    position: 'absolute',
    top: 0,
    left: 0,
    width: '100%',
    minWidth: 'fit-content',
    alignItems: 'center',
    borderBottom: `1px solid ${theme.colors.border.weak}`,
    '&:hover': { background: theme.colors.action.hover },
  }),
  cell: css({
    display: 'flex',
    alignItems: 'center',
    padding: theme.spacing(0, 1),
    minWidth: 0,
    overflow: 'hidden',
    whiteSpace: 'nowrap',
  }),
  right: css({ justifyContent: 'flex-end', textAlign: 'right' }),
});
