import type { TimeRange } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';
import type { LockScope, SessionState } from '@authwatch/wire';

export type PanelMode = 'sessions' | 'lockouts';

export interface PanelOptions {
  mode: PanelMode;
  /** Show End session / End all / Unlock buttons to users whose role may act. */
  showActions: boolean;
  /** Show the Export CSV button. */
  showExport: boolean;
}


/**
 * A session as the panel shows it: a camelCase view row read from the data source's sessions frame
 * (not the collector's snake_case wire Session, which is @authwatch/wire's).
 */
export interface SessionViewRow {
  id: string;
  user: string;
  state: SessionState;
  ip: string | null;
  country: string | null;
  city: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  deviceType: string | null;
  service: string | null;
  startedAt: number | null;
  lastSeenAt: number | null;
  endedAt: number | null;
  endReason: string | null;
}

export type LockoutScope = LockScope;

/** A lock as the panel shows it: a view row read from the data source's lockouts frame (GET /v1/lockouts). */
export interface LockoutViewRow {
  /** Stable key for rendering: scope + user + ip. */
  key: string;
  user: string | null;
  scope: LockoutScope;
  ip: string | null;
  failures: number;
  lockedAt: number | null;
  /** null = until an admin unlocks. */
  lockedUntil: number | null;
  reason: string | null;
}

/**
 * What the panel needs from the Authwatch data source instance (its DataSource class has these).
 * Kept structural so the panel bundle does not import the data source bundle.
 */
export interface AuthwatchActions {
  terminateSession(id: string): Promise<void>;
  terminateUserSessions(user: string): Promise<number>;
  unlockUser(user: string): Promise<number>;
  unlockIp(ip: string): Promise<number>;
  csvUrl(query: DataQuery, range: TimeRange): string;
}

export function isAuthwatchActions(ds: unknown): ds is AuthwatchActions {
  const d = ds as Partial<Record<keyof AuthwatchActions, unknown>> | null;
  return (
    !!d &&
    typeof d.terminateSession === 'function' &&
    typeof d.terminateUserSessions === 'function' &&
    typeof d.unlockUser === 'function' &&
    typeof d.unlockIp === 'function' &&
    typeof d.csvUrl === 'function'
  );
}

/** A row action waiting for confirmation or running. */
export type PendingAction =
  | { kind: 'endSession'; session: SessionViewRow }
  | { kind: 'endUserSessions'; user: string }
  | { kind: 'unlock'; lockout: LockoutViewRow };
