// Column definitions for the two modes.
import React from 'react';
import { IconButton, Stack } from '@grafana/ui';

import { countryName, humanize, scopeLabels } from '../format';
import type { Column } from '../table';
import type { LockoutViewRow, SessionViewRow } from '../types';
import { DeviceCell, IpCell, LocationCell, LockedUntil, Muted, ScopeBadge, SessionStatus, TimeCell } from './cells';

export interface SessionColumnContext {
  timeZone: string;
  canAct: boolean;
  /** Users with at least one active session in the data (End all is offered only for them). */
  activeUsers: Set<string>;
  onEndSession: (row: SessionViewRow) => void;
  onEndUserSessions: (user: string) => void;
}

// Row buttons carry a native title instead of a @grafana/ui Tooltip: a Tooltip per button is most
// of the render cost of a row, which matters while 10k rows scroll by.
export function sessionColumns(ctx: SessionColumnContext): Array<Column<SessionViewRow>> {
  const columns: Array<Column<SessionViewRow>> = [
    { id: 'user', header: 'User', width: 'minmax(140px, 1.3fr)', sortValue: (r) => r.user, text: (r) => r.user, render: (r) => <strong>{r.user}</strong> },
    {
      id: 'state',
      header: 'Status',
      width: '92px',
      sortValue: (r) => r.state,
      text: (r) => `${r.state} ${humanize(r.endReason)}`,
      render: (r) => <SessionStatus row={r} />,
    },
    { id: 'ip', header: 'IP address', width: 'minmax(110px, 1fr)', sortValue: (r) => r.ip, text: (r) => r.ip, render: (r) => <IpCell ip={r.ip} /> },
    {
      id: 'location',
      header: 'Location',
      width: 'minmax(150px, 1.5fr)',
      sortValue: (r) => countryName(r.country),
      text: (r) => `${r.country ?? ''} ${countryName(r.country)} ${r.city ?? ''}`,
      render: (r) => <LocationCell country={r.country} city={r.city} />,
    },
    {
      id: 'device',
      header: 'Browser / OS / Device',
      width: 'minmax(170px, 1.6fr)',
      sortValue: (r) => [r.browser, r.os, r.device].filter(Boolean).join(' '),
      text: (r) => [r.browser, r.os, r.device, r.deviceType].filter(Boolean).join(' '),
      render: (r) => <DeviceCell row={r} />,
    },
    { id: 'service', header: 'Service', width: 'minmax(100px, 1fr)', sortValue: (r) => r.service, text: (r) => r.service, render: (r) => r.service ?? <Muted>—</Muted> },
    {
      id: 'started',
      header: 'Started',
      width: 'minmax(150px, 1fr)',
      sortValue: (r) => r.startedAt,
      render: (r) => <TimeCell value={r.startedAt} timeZone={ctx.timeZone} />,
    },
    {
      id: 'lastSeen',
      header: 'Last seen',
      width: 'minmax(128px, 0.9fr)',
      sortValue: (r) => r.lastSeenAt,
      render: (r) => <TimeCell value={r.lastSeenAt} timeZone={ctx.timeZone} relative />,
    },
    {
      id: 'endReason',
      header: 'End reason',
      width: 'minmax(120px, 1fr)',
      sortValue: (r) => r.endReason,
      text: (r) => humanize(r.endReason),
      render: (r) => (r.endReason ? humanize(r.endReason) : <Muted>—</Muted>),
    },
  ];
  if (ctx.canAct) {
    columns.push({
      id: 'actions',
      header: 'Actions',
      width: '76px',
      align: 'right',
      render: (r) => (
        <Stack direction="row" gap={0.5} justifyContent="flex-end">
          {r.state === 'active' && (
            <IconButton
              name="signout"
              variant="destructive"
              aria-label={`End this session of ${r.user}`}
              title={`End this session of ${r.user}`}
              onClick={() => ctx.onEndSession(r)}
            />
          )}
          {ctx.activeUsers.has(r.user) && (
            <IconButton
              name="users-alt"
              aria-label={`End all sessions of ${r.user}`}
              title={`End all sessions of ${r.user}`}
              onClick={() => ctx.onEndUserSessions(r.user)}
            />
          )}
        </Stack>
      ),
    });
  }
  return columns;
}

export interface LockoutColumnContext {
  timeZone: string;
  canAct: boolean;
  now: number;
  onUnlock: (row: LockoutViewRow) => void;
}

export function lockoutColumns(ctx: LockoutColumnContext): Array<Column<LockoutViewRow>> {
  const columns: Array<Column<LockoutViewRow>> = [
    {
      id: 'user',
      header: 'User',
      width: 'minmax(140px, 1.3fr)',
      sortValue: (r) => r.user,
      text: (r) => r.user,
      render: (r) => (r.user ? <strong>{r.user}</strong> : <Muted>Any user</Muted>),
    },
    {
      id: 'scope',
      header: 'Scope',
      width: '140px',
      sortValue: (r) => r.scope,
      text: (r) => `${r.scope} ${scopeLabels[r.scope] ?? ''}`,
      render: (r) => <ScopeBadge row={r} />,
    },
    { id: 'ip', header: 'IP address', width: 'minmax(110px, 1fr)', sortValue: (r) => r.ip, text: (r) => r.ip, render: (r) => <IpCell ip={r.ip} /> },
    { id: 'failures', header: 'Failures', width: '84px', align: 'right', sortValue: (r) => r.failures, render: (r) => r.failures },
    {
      id: 'lockedAt',
      header: 'Locked since',
      width: 'minmax(150px, 1fr)',
      sortValue: (r) => r.lockedAt,
      render: (r) => <TimeCell value={r.lockedAt} timeZone={ctx.timeZone} />,
    },
    {
      id: 'lockedUntil',
      header: 'Until',
      width: 'minmax(130px, 1fr)',
      // "Until unlocked" sorts after every timed lock.
      sortValue: (r) => r.lockedUntil ?? Number.MAX_SAFE_INTEGER,
      text: (r) => (r.lockedUntil === null ? 'until unlocked permanent' : ''),
      render: (r) => <LockedUntil row={r} now={ctx.now} />,
    },
    {
      id: 'reason',
      header: 'Reason',
      width: 'minmax(140px, 1.4fr)',
      sortValue: (r) => r.reason,
      text: (r) => humanize(r.reason),
      render: (r) => (r.reason ? humanize(r.reason) : <Muted>—</Muted>),
    },
  ];
  if (ctx.canAct) {
    columns.push({
      id: 'actions',
      header: 'Actions',
      width: '76px',
      align: 'right',
      render: (r) => (
        <IconButton
          name="unlock"
          aria-label={r.scope === 'ip' ? `Unblock IP address ${r.ip}` : `Unlock ${r.user}`}
          title={r.scope === 'ip' ? `Unblock IP address ${r.ip}` : `Unlock ${r.user}`}
          onClick={() => ctx.onUnlock(r)}
        />
      ),
    });
  }
  return columns;
}
