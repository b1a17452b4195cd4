// What both panel modes share around their table: the toolbar (quick filter, row count, CSV
// exports), the action result message, the empty state and the confirm dialog of row actions.
import React, { type ReactNode } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, IconName } from '@grafana/data';
import { Alert, Button, Icon, Input, useStyles2 } from '@grafana/ui';

import type { PanelMode } from '../types';
import type { useRowActions } from '../useRowActions';
import { ActionConfirm } from './ActionConfirm';

const TOOLBAR_HEIGHT = 40;

export interface PanelFrameProps {
  mode: PanelMode;
  filter: string;
  onFilterChange: (filter: string) => void;
  filterPlaceholder: string;
  summary: string;
  showExport: boolean;
  /** Downloads every row of the query (not only the visible ones) as CSV. */
  onExportRows: () => void;
  actions: ReturnType<typeof useRowActions>;
  height: number;
  /** Shown instead of the table when the query has no rows. */
  empty?: { icon: IconName; text: string };
  /** The table, given the height left for it. */
  children: (tableHeight: number) => ReactNode;
}

export function PanelFrame(props: PanelFrameProps) {
  const { mode, actions, empty } = props;
  const styles = useStyles2(getStyles);
  const messageHeight = actions.message ? 56 : 0;
  const tableHeight = Math.max(80, props.height - TOOLBAR_HEIGHT - messageHeight);

  return (
    <div className={styles.wrapper} data-testid="authwatch-sessions-panel" data-mode={mode}>
      <div className={styles.toolbar}>
        <div className={styles.filter}>
          <Input
            prefix={<Icon name="search" />}
            placeholder={props.filterPlaceholder}
            value={props.filter}
            onChange={(e) => props.onFilterChange(e.currentTarget.value)}
            aria-label="Quick filter"
          />
        </div>
        <span className={styles.summary} data-testid="authwatch-summary">
          {props.summary}
        </span>
        {props.showExport && (
          <>
            <Button size="sm" variant="secondary" icon="download-alt" onClick={props.onExportRows} tooltip="Every row of this query as CSV">
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
      {empty ? (
        <div className={styles.empty} style={{ height: tableHeight }}>
          <Icon name={empty.icon} size="xl" />
          {empty.text}
        </div>
      ) : (
        props.children(tableHeight)
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
  empty: css({
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    justifyContent: 'center',
    gap: theme.spacing(1),
    color: theme.colors.text.secondary,
  }),
});

/** "3 sessions", "2 of 5 locks". */
export function countSummary(shown: number, total: number, noun: string): string {
  return `${shown === total ? total : `${shown} of ${total}`} ${noun}${total === 1 ? '' : 's'}`;
}

/** A file-name stamp: 2026-11-26-12-30-05. */
export function fileStamp(): string {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
}
