import React from 'react';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { dateTime, EventBusSrv, getDefaultTimeRange, LoadingState, PanelData, PanelProps } from '@grafana/data';
import { config, setAppEvents, setDataSourceSrv, type DataSourceSrv } from '@grafana/runtime';

import { sessionsFrame } from '../../datasource/frames';
import type { Session } from '@authwatch/wire';
import { AuthwatchChangedEvent } from '../refresh';
import type { AuthwatchActions, PanelOptions } from '../types';
import { SessionsPanel } from './SessionsPanel';

const base: Session = {
  id: 'a1b2',
  user: 'alice.martin',
  user_id: null,
  ip: '81.2.69.142',
  country: 'GB',
  city: null,
  isp: null,
  asn: null,
  browser: 'Chrome',
  os: 'Windows',
  device: null,
  device_type: 'desktop',
  service: 'payments-portal',
  started_at: Date.now() - 3_600_000,
  last_seen_at: Date.now() - 60_000,
  ended_at: null,
  end_reason: null,
  state: 'active',
};

function panelData(): PanelData {
  const frame = sessionsFrame({ sessions: [base, { ...base, id: 'c3d4', user: 'bob.nguyen', country: 'private' }] }, { refId: 'A', showDetails: true });
  const timeRange = getDefaultTimeRange();
  return {
    state: LoadingState.Done,
    series: [frame],
    timeRange,
    request: {
      requestId: 'r',
      interval: '1m',
      intervalMs: 60_000,
      range: timeRange,
      scopedVars: {},
      targets: [{ refId: 'A', datasource: { uid: 'aw', type: 'authwatch-activity-datasource' } }],
      timezone: 'utc',
      app: 'dashboard',
      startTime: dateTime().valueOf(),
    },
  };
}

function fakeDataSource(overrides: Partial<AuthwatchActions> = {}) {
  const ds = {
    name: 'Authwatch',
    terminateSession: jest.fn(async () => undefined),
    terminateUserSessions: jest.fn(async () => 1),
    unlockUser: jest.fn(async () => 1),
    unlockIp: jest.fn(async () => 1),
    csvUrl: jest.fn(() => '/api/datasources/proxy/uid/aw/read/events.csv'),
    // The collector's answer after the action: alice's session is gone.
    query: jest.fn(async () => ({ data: [sessionsFrame({ sessions: [{ ...base, id: 'c3d4', user: 'bob.nguyen' }] }, { refId: 'A', showDetails: true })] })),
    ...overrides,
  };
  setDataSourceSrv({ get: async () => ds } as unknown as DataSourceSrv);
  return ds;
}

function renderPanel() {
  const props = {
    data: panelData(),
    options: { mode: 'sessions', showActions: true, showExport: true } as PanelOptions,
    height: 400,
    width: 1200,
    timeZone: 'utc',
  } as unknown as PanelProps<PanelOptions>;
  return render(<SessionsPanel {...props} />);
}

let refreshes = 0;
beforeEach(() => {
  // jsdom has no layout: give elements a size so the virtualized table renders its rows.
  jest.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(400);
  jest.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(1200);
  const bus = new EventBusSrv();
  refreshes = 0;
  bus.subscribe(AuthwatchChangedEvent, () => refreshes++);
  setAppEvents(bus);
  config.bootData.user.orgRole = 'Editor' as typeof config.bootData.user.orgRole;
});

afterEach(() => jest.restoreAllMocks());

test('an Editor ends a session after confirming; the panel re-runs its query and shows the answer', async () => {
  const ds = fakeDataSource();
  renderPanel();
  fireEvent.click(await screen.findByRole('button', { name: 'End this session of alice.martin' }));
  expect(ds.terminateSession).not.toHaveBeenCalled();
  fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'End session' }));
  await waitFor(() => expect(ds.terminateSession).toHaveBeenCalledWith('a1b2'));
  expect(await screen.findByText('Ended the session of alice.martin')).toBeInTheDocument();
  expect(refreshes).toBe(1);
  await waitFor(() => expect(ds.query).toHaveBeenCalledTimes(1));
  // Same targets and data source, a new request id.
  expect(ds.query).toHaveBeenCalledWith(expect.objectContaining({ targets: panelData().request!.targets, requestId: 'r-authwatch' }));
  await waitFor(() => expect(screen.getByTestId('authwatch-summary')).toHaveTextContent('1 session · 1 active'));
  expect(screen.queryByText('alice.martin')).not.toBeInTheDocument();
});

test('dismissing the dialog does nothing', async () => {
  const ds = fakeDataSource();
  renderPanel();
  fireEvent.click(await screen.findByRole('button', { name: 'End all sessions of bob.nguyen' }));
  fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
  expect(ds.terminateUserSessions).not.toHaveBeenCalled();
  expect(refreshes).toBe(0);
});

test("the data source's error is shown inline", async () => {
  fakeDataSource({
    terminateSession: jest.fn(async () => {
      throw new Error('Permission denied while ending session a1b2: this action needs the Grafana Editor or Admin role');
    }),
  });
  renderPanel();
  fireEvent.click(await screen.findByRole('button', { name: 'End this session of alice.martin' }));
  fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'End session' }));
  const alert = await screen.findByRole('alert');
  expect(alert).toHaveTextContent('Could not end the session of alice.martin');
  expect(alert).toHaveTextContent('needs the Grafana Editor or Admin role');
  expect(refreshes).toBe(0);
});

test('a Viewer gets no action buttons', async () => {
  config.bootData.user.orgRole = 'Viewer' as typeof config.bootData.user.orgRole;
  fakeDataSource();
  renderPanel();
  expect(await screen.findByText('alice.martin')).toBeInTheDocument();
  expect(screen.getByText('Private network')).toBeInTheDocument();
  expect(screen.queryByRole('button', { name: /^End (this|all)/ })).not.toBeInTheDocument();
  expect(screen.queryByRole('columnheader', { name: 'Actions' })).not.toBeInTheDocument();
});

test('a query of the wrong type says what to change', async () => {
  fakeDataSource();
  const props = {
    data: panelData(),
    options: { mode: 'lockouts', showActions: true, showExport: true } as PanelOptions,
    height: 400,
    width: 1200,
    timeZone: 'utc',
  } as unknown as PanelProps<PanelOptions>;
  render(<SessionsPanel {...props} />);
  expect(await screen.findByText('This panel shows lockouts: set the Authwatch query type to Lockouts')).toBeInTheDocument();
});
