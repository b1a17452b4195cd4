// The Authwatch sessions & lockouts panel: a virtualized, sortable, filterable table with row
// actions (behind a confirm dialog) for users whose Grafana role may act. This component keeps what
// outlives a mode switch (fresh data, row actions, quick filter, each mode's sort) and shows the
// table of the chosen mode: SessionsTable or LockoutsTable.
import React, { useState } from 'react';
import { PanelProps } from '@grafana/data';

import { userCanAct } from '../permissions';
import type { SortState } from '../table';
import type { PanelOptions } from '../types';
import { useFreshData } from '../useFreshData';
import { useRowActions } from '../useRowActions';
import { LockoutsTable } from './LockoutsTable';
import { SessionsTable } from './SessionsTable';

export function SessionsPanel({ data: panelData, options, height, timeZone }: PanelProps<PanelOptions>) {
  const data = useFreshData(panelData);
  const mode = options.mode ?? 'sessions';
  const canAct = (options.showActions ?? true) && userCanAct();
  const actions = useRowActions(data);
  const [filter, setFilter] = useState('');
  const [sessionSort, setSessionSort] = useState<SortState | undefined>({ columnId: 'lastSeen', desc: true });
  const [lockoutSort, setLockoutSort] = useState<SortState | undefined>({ columnId: 'lockedAt', desc: true });

  const shared = { data, actions, canAct, showExport: options.showExport ?? true, height, timeZone, filter, onFilterChange: setFilter };
  return mode === 'lockouts' ? (
    <LockoutsTable {...shared} sort={lockoutSort} onSortChange={setLockoutSort} />
  ) : (
    <SessionsTable {...shared} sort={sessionSort} onSortChange={setSessionSort} />
  );
}
