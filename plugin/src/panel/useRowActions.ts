// Row actions (end session, end all of a user's sessions, unlock) and CSV export, executed through
// the panel's Authwatch data source, which sends them via its role-checked proxy routes.
import { useCallback, useState } from 'react';
import type { PanelData } from '@grafana/data';
import { getDataSourceSrv } from '@grafana/runtime';

import { download } from './csv';
import { announceChange } from './refresh';
import { AuthwatchActions, isAuthwatchActions, PendingAction } from './types';

export interface ActionMessage {
  severity: 'success' | 'error';
  title: string;
  text?: string;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  // A raw FetchError from getBackendSrv: { status, data: { message }, statusText }.
  const fetchError = err as { status?: number; data?: { message?: string; error?: string }; statusText?: string } | null;
  const detail = fetchError?.data?.message ?? fetchError?.data?.error ?? fetchError?.statusText;
  if (detail) {
    return fetchError?.status ? `${detail} (HTTP ${fetchError.status})` : detail;
  }
  return String(err);
}

function failureTitle(action: PendingAction): string {
  switch (action.kind) {
    case 'endSession':
      return `Could not end the session of ${action.session.user}`;
    case 'endUserSessions':
      return `Could not end the sessions of ${action.user}`;
    case 'unlock':
      return `Could not unlock ${action.lockout.scope === 'ip' ? action.lockout.ip : action.lockout.user}`;
  }
}

async function run(ds: AuthwatchActions, action: PendingAction): Promise<string> {
  switch (action.kind) {
    case 'endSession':
      await ds.terminateSession(action.session.id);
      return `Ended the session of ${action.session.user}`;
    case 'endUserSessions': {
      const n = await ds.terminateUserSessions(action.user);
      return `Ended ${n} session${n === 1 ? '' : 's'} of ${action.user}`;
    }
    case 'unlock': {
      const { lockout } = action;
      if (lockout.scope === 'ip' && lockout.ip) {
        await ds.unlockIp(lockout.ip);
        return `Unlocked IP address ${lockout.ip}`;
      }
      if (!lockout.user) {
        throw new Error('This lock has no user to unlock');
      }
      const n = await ds.unlockUser(lockout.user);
      return `Unlocked ${lockout.user} (${n} lock${n === 1 ? '' : 's'} cleared)`;
    }
  }
}

export function useRowActions(data: PanelData) {
  const [pending, setPending] = useState<PendingAction>();
  const [running, setRunning] = useState(false);
  const [message, setMessage] = useState<ActionMessage>();
  const target = data.request?.targets?.[0];
  const timeRange = data.timeRange;

  const getDataSource = useCallback(async (): Promise<AuthwatchActions> => {
    const ds = await getDataSourceSrv().get(target?.datasource ?? null);
    if (!isAuthwatchActions(ds)) {
      throw new Error(`Data source "${ds.name}" is not an Authwatch data source; actions need one`);
    }
    return ds;
  }, [target?.datasource]);

  const confirm = useCallback(async () => {
    if (!pending) {
      return;
    }
    setRunning(true);
    try {
      const text = await run(await getDataSource(), pending);
      setMessage({ severity: 'success', title: text });
      announceChange();
    } catch (err) {
      setMessage({ severity: 'error', title: failureTitle(pending), text: describeError(err) });
    } finally {
      setRunning(false);
      setPending(undefined);
    }
  }, [pending, getDataSource]);

  /** Server-side CSV of every login event matching the panel's query filters and time range. */
  const exportEventsCsv = useCallback(async () => {
    try {
      if (!target) {
        throw new Error('The panel has no query to export');
      }
      download('', (await getDataSource()).csvUrl(target, timeRange));
    } catch (err) {
      setMessage({ severity: 'error', title: 'Could not export the events CSV', text: describeError(err) });
    }
  }, [getDataSource, target, timeRange]);

  return {
    pending,
    running,
    message,
    request: setPending,
    cancel: useCallback(() => setPending(undefined), []),
    confirm,
    exportEventsCsv,
    dismissMessage: useCallback(() => setMessage(undefined), []),
  };
}
