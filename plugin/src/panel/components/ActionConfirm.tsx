// The confirm dialog in front of every row action.
import React from 'react';
import { ConfirmModal } from '@grafana/ui';

import { countryName } from '../format';
import type { PendingAction } from '../types';

interface Props {
  action: PendingAction | undefined;
  running: boolean;
  onConfirm: () => Promise<void>;
  onDismiss: () => void;
}

function describe(action: PendingAction): { title: string; body: string; confirmText: string } {
  switch (action.kind) {
    case 'endSession': {
      const s = action.session;
      const where = [s.ip, s.country ? countryName(s.country) : null, [s.browser, s.os].filter(Boolean).join(' on ')].filter(Boolean).join(', ');
      return {
        title: 'End session',
        body: `End the session of ${s.user}${where ? ` (${where})` : ''}? The application signs the user out on its next check.`,
        confirmText: 'End session',
      };
    }
    case 'endUserSessions':
      return {
        title: 'End all sessions',
        body: `End every active session of ${action.user}? They are signed out everywhere.`,
        confirmText: 'End all sessions',
      };
    case 'unlock': {
      const l = action.lockout;
      return l.scope === 'ip'
        ? { title: 'Unblock IP address', body: `Allow logins from ${l.ip} again?`, confirmText: 'Unblock' }
        : { title: 'Unlock account', body: `Clear every lock on ${l.user} and reset its failed-login count?`, confirmText: 'Unlock' };
    }
  }
}

export function ActionConfirm({ action, running, onConfirm, onDismiss }: Props) {
  if (!action) {
    return null;
  }
  const { title, body, confirmText } = describe(action);
  return (
    <ConfirmModal
      isOpen
      title={title}
      body={body}
      confirmText={running ? 'Working…' : confirmText}
      confirmButtonVariant={action.kind === 'unlock' ? 'primary' : 'destructive'}
      icon={action.kind === 'unlock' ? 'unlock' : 'exclamation-triangle'}
      disabled={running}
      onConfirm={onConfirm}
      onDismiss={onDismiss}
    />
  );
}
