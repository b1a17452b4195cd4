// Lockouts mode of the panel: the lockouts frame as a sortable, filterable table with live
// countdowns and Unlock / Unblock actions.
import React, { useMemo } from 'react';

import { downloadText, lockoutCsvColumns, toCsv } from '../csv';
import { isLockoutsFrame, lockoutRows } from '../rows';
import { filterRows, nextSort, sortRows } from '../table';
import type { LockoutViewRow } from '../types';
import { useNow } from '../useNow';
import { lockoutColumns } from './columns';
import { countSummary, fileStamp, PanelFrame } from './PanelFrame';
import type { ModeTableProps } from './SessionsTable';
import { VirtualTable } from './VirtualTable';

export function LockoutsTable({ data, actions, canAct, showExport, height, timeZone, filter, onFilterChange, sort, onSortChange }: ModeTableProps) {
  const lockouts = useMemo(() => lockoutRows(data.series), [data.series]);
  // Countdowns tick only while some lock has an end.
  const now = useNow(lockouts.some((l) => l.lockedUntil !== null));

  const columns = useMemo(
    () => lockoutColumns({ timeZone, canAct, now, onUnlock: (lockout) => actions.request({ kind: 'unlock', lockout }) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- actions.request is a stable state setter
    [timeZone, canAct, now]
  );
  const visible = useMemo(
    () => sortRows(filterRows(lockouts, columns, filter), columns, sort),
    // Sorting does not depend on `now`; keep the row order stable while countdowns tick.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [lockouts, filter, sort]
  );

  const total = lockouts.length;
  const exportRows = () => downloadText(`authwatch-lockouts-${fileStamp()}.csv`, toCsv(sortRows(lockouts, columns, sort), lockoutCsvColumns));
  const wrongQuery = data.series.length > 0 && !data.series.some(isLockoutsFrame);

  return (
    <PanelFrame
      mode="lockouts"
      filter={filter}
      onFilterChange={onFilterChange}
      filterPlaceholder="Filter by user, IP, scope…"
      summary={countSummary(visible.length, total, 'lock')}
      showExport={showExport}
      onExportRows={exportRows}
      actions={actions}
      height={height}
      empty={
        total === 0
          ? { icon: 'unlock', text: wrongQuery ? 'This panel shows lockouts: set the Authwatch query type to Lockouts' : 'No accounts or addresses are locked' }
          : undefined
      }
    >
      {(tableHeight) => (
        <VirtualTable<LockoutViewRow>
          label="Lockouts"
          rows={visible}
          columns={columns}
          rowKey={(r) => r.key}
          sort={sort}
          onSort={(id) => onSortChange((s) => nextSort(s, id, id === 'lockedAt' || id === 'failures'))}
          height={tableHeight}
        />
      )}
    </PanelFrame>
  );
}
