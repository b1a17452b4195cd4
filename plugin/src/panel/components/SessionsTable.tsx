// Sessions mode of the panel: the sessions frame as a sortable, filterable table with End session /
// End all actions.
import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, PanelData } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';

import { downloadText, sessionCsvColumns, toCsv } from '../csv';
import { isSessionsFrame, sessionRows } from '../rows';
import { filterRows, nextSort, SortState, sortRows } from '../table';
import type { SessionViewRow } from '../types';
import type { useRowActions } from '../useRowActions';
import { sessionColumns } from './columns';
import { countSummary, fileStamp, PanelFrame } from './PanelFrame';
import { VirtualTable } from './VirtualTable';

export interface ModeTableProps {
  data: PanelData;
  actions: ReturnType<typeof useRowActions>;
  canAct: boolean;
  showExport: boolean;
  height: number;
  timeZone: string;
  filter: string;
  onFilterChange: (filter: string) => void;
  sort: SortState | undefined;
  onSortChange: (update: (sort: SortState | undefined) => SortState | undefined) => void;
}

export function SessionsTable({ data, actions, canAct, showExport, height, timeZone, filter, onFilterChange, sort, onSortChange }: ModeTableProps) {
  const styles = useStyles2(getStyles);
  const sessions = useMemo(() => sessionRows(data.series), [data.series]);
  const activeUsers = useMemo(() => new Set(sessions.filter((s) => s.state === 'active').map((s) => s.user)), [sessions]);

  const columns = useMemo(
    () =>
      sessionColumns({
        timeZone,
        canAct,
        activeUsers,
        onEndSession: (session) => actions.request({ kind: 'endSession', session }),
        onEndUserSessions: (user) => actions.request({ kind: 'endUserSessions', user }),
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- actions.request is a stable state setter
    [timeZone, canAct, activeUsers]
  );
  const visible = useMemo(() => sortRows(filterRows(sessions, columns, filter), columns, sort), [sessions, columns, filter, sort]);

  const total = sessions.length;
  const summary = `${countSummary(visible.length, total, 'session')} · ${sessions.filter((s) => s.state === 'active').length} active`;
  // All rows of the query, not only the ones on screen, in the table's current order.
  const exportRows = () => downloadText(`authwatch-sessions-${fileStamp()}.csv`, toCsv(sortRows(sessions, columns, sort), sessionCsvColumns));
  const wrongQuery = data.series.length > 0 && !data.series.some(isSessionsFrame);

  return (
    <PanelFrame
      mode="sessions"
      filter={filter}
      onFilterChange={onFilterChange}
      filterPlaceholder="Filter by user, IP, country, browser…"
      summary={summary}
      showExport={showExport}
      onExportRows={exportRows}
      actions={actions}
      height={height}
      empty={
        total === 0
          ? { icon: 'users-alt', text: wrongQuery ? 'This panel shows sessions: set the Authwatch query type to Sessions' : 'No sessions match this query' }
          : undefined
      }
    >
      {(tableHeight) => (
        <VirtualTable<SessionViewRow>
          label="Sessions"
          rows={visible}
          columns={columns}
          rowKey={(r) => r.id}
          sort={sort}
          onSort={(id) => onSortChange((s) => nextSort(s, id, id === 'started' || id === 'lastSeen'))}
          height={tableHeight}
          rowClassName={(r) => (r.state === 'ended' ? styles.endedRow : undefined)}
        />
      )}
    </PanelFrame>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  endedRow: css({ color: theme.colors.text.secondary }),
});
