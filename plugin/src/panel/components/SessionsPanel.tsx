// The Authwatch sessions & lockouts panel: a virtualized, sortable, filterable table with row
// actions (behind a confirm dialog) for users whose Grafana role may act.
import React, { useMemo, useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, PanelProps } from '@grafana/data';
import { Alert, Button, Icon, Input, useStyles2 } from '@grafana/ui';

import { downloadText, lockoutCsvColumns, sessionCsvColumns, toCsv } from '../csv';
import { userCanAct } from '../permissions';
import { isLockoutsFrame, isSessionsFrame, lockoutRows, sessionRows } from '../rows';
import { filterRows, nextSort, SortState, sortRows } from '../table';
import type { LockoutRow, PanelOptions, SessionRow } from '../types';
import { useNow } from '../useNow';
import { useFreshData } from '../useFreshData';
import { useRowActions } from '../useRowActions';
import { ActionConfirm } from './ActionConfirm';
import { lockoutColumns, sessionColumns } from './columns';
import { VirtualTable } from './VirtualTable';

const TOOLBAR_HEIGHT = 40;

export function SessionsPanel({ data: panelData, options, height, timeZone }: PanelProps<PanelOptions>) {
  const data = useFreshData(panelData);
  const styles = useStyles2(getStyles);
  const mode = options.mode ?? 'sessions';
  const canAct = (options.showActions ?? true) && userCanAct();
  const actions = useRowActions(data);
  const [filter, setFilter] = useState('');
  const [sessionSort, setSessionSort] = useState<SortState | undefined>({ columnId: 'lastSeen', desc: true });
  const [lockoutSort, setLockoutSort] = useState<SortState | undefined>({ columnId: 'lockedAt', desc: true });

  const sessions = useMemo(() => (mode === 'sessions' ? sessionRows(data.series) : []), [data.series, mode]);
  const lockouts = useMemo(() => (mode === 'lockouts' ? lockoutRows(data.series) : []), [data.series, mode]);
  const activeUsers = useMemo(() => new Set(sessions.filter((s) => s.state === 'active').map((s) => s.user)), [sessions]);
  const ticking = mode === 'lockouts' && lockouts.some((l) => l.lockedUntil !== null);
  const now = useNow(ticking);

  const sColumns = useMemo(
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
  const lColumns = useMemo(
    () => lockoutColumns({ timeZone, canAct, now, onUnlock: (lockout) => actions.request({ kind: 'unlock', lockout }) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- actions.request is a stable state setter
    [timeZone, canAct, now]
  );

  const visibleSessions = useMemo(
    () => sortRows(filterRows(sessions, sColumns, filter), sColumns, sessionSort),
    [sessions, sColumns, filter, sessionSort]
  );
  const visibleLockouts = useMemo(
    () => sortRows(filterRows(lockouts, lColumns, filter), lColumns, lockoutSort),
    // Sorting does not depend on `now`; keep the row order stable while countdowns tick.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [lockouts, filter, lockoutSort]
  );

  const total = mode === 'sessions' ? sessions.length : lockouts.length;
  const shown = mode === 'sessions' ? visibleSessions.length : visibleLockouts.length;
  const noun = mode === 'sessions' ? 'session' : 'lock';
  const summary =
    mode === 'sessions'
      ? `${shown === total ? total : `${shown} of ${total}`} ${noun}${total === 1 ? '' : 's'} · ${sessions.filter((s) => s.state === 'active').length} active`
      : `${shown === total ? total : `${shown} of ${total}`} ${noun}${total === 1 ? '' : 's'}`;

  // All rows of the query, not only the ones on screen, in the table's current order.
  const exportRows = () => {
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    if (mode === 'sessions') {
      downloadText(`authwatch-sessions-${stamp}.csv`, toCsv(sortRows(sessions, sColumns, sessionSort), sessionCsvColumns));
    } else {
      downloadText(`authwatch-lockouts-${stamp}.csv`, toCsv(sortRows(lockouts, lColumns, lockoutSort), lockoutCsvColumns));
    }
  };

  const wrongQuery = data.series.length > 0 && !data.series.some(mode === 'sessions' ? isSessionsFrame : isLockoutsFrame);
  const emptyText = wrongQuery
    ? `This panel shows ${mode}: set the Authwatch query type to ${mode === 'sessions' ? 'Sessions' : 'Lockouts'}`
    : mode === 'sessions'
      ? 'No sessions match this query'
      : 'No accounts or addresses are locked';

  const messageHeight = actions.message ? 56 : 0;
  const tableHeight = Math.max(80, height - TOOLBAR_HEIGHT - messageHeight);

  return (
    <div className={styles.wrapper} data-testid="authwatch-sessions-panel" data-mode={mode}>
      <div className={styles.toolbar}>
        <div className={styles.filter}>
          <Input
            prefix={<Icon name="search" />}
            placeholder={mode === 'sessions' ? 'Filter by user, IP, country, browser…' : 'Filter by user, IP, scope…'}
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value)}
            aria-label="Quick filter"
          />
        </div>
        <span className={styles.summary} data-testid="authwatch-summary">
          {summary}
        </span>
        {(options.showExport ?? true) && (
          <>
            <Button size="sm" variant="secondary" icon="download-alt" onClick={exportRows} tooltip="Every row of this query as CSV">
              Export CSV
            </Button>
            <Button
              size="sm"
              variant="secondary"
              fill="outline"
              icon="file-alt"
              onClick={actions.exportEventsCsv}
              tooltip="Every login event matching this query's filters and time range, from the collector"
            >
              Events CSV
            </Button>
          </>
        )}
      </div>
      {actions.message && (
        <Alert
          className={styles.message}
          severity={actions.message.severity}
          title={actions.message.title}
          onRemove={actions.dismissMessage}
        >
          {actions.message.text}
        </Alert>
      )}
      {total === 0 ? (
        <div className={styles.empty} style={{ height: tableHeight }}>
          <Icon name={mode === 'sessions' ? 'users-alt' : 'unlock'} size="xl" />
          {emptyText}
        </div>
      ) : mode === 'sessions' ? (
        <VirtualTable<SessionRow>
          label="Sessions"
          rows={visibleSessions}
          columns={sColumns}
          rowKey={(r) => r.id}
          sort={sessionSort}
          onSort={(id) => setSessionSort((s) => nextSort(s, id, id === 'started' || id === 'lastSeen'))}
          height={tableHeight}
          rowClassName={(r) => (r.state === 'ended' ? styles.endedRow : undefined)}
        />
      ) : (
        <VirtualTable<LockoutRow>
          label="Lockouts"
          rows={visibleLockouts}
          columns={lColumns}
          rowKey={(r) => r.key}
          sort={lockoutSort}
          onSort={(id) => setLockoutSort((s) => nextSort(s, id, id === 'lockedAt' || id === 'failures'))}
          height={tableHeight}
        />
      )}
      <ActionConfirm action={actions.pending} running={actions.running} onConfirm={actions.confirm} onDismiss={actions.cancel} />
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrapper: css({ display: 'flex', flexDirection: 'column', height: '100%', overflow: 'hidden' }),
  toolbar: css({
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1.5),
    height: TOOLBAR_HEIGHT,
    flexShrink: 0,
    padding: theme.spacing(0, 1),
  }),
  filter: css({ width: 320, flexShrink: 1, minWidth: 160 }),
  summary: css({ flexGrow: 1, color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize, whiteSpace: 'nowrap' }),
  message: css({ margin: theme.spacing(0, 1, 1, 1), flexShrink: 0 }),
  endedRow: css({ color: theme.colors.text.secondary }),
  empty: css({
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    justifyContent: 'center',
    gap: theme.spacing(1),
    color: theme.colors.text.secondary,
  }),
});
