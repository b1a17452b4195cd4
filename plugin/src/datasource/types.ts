// The data source's query and settings. What the collector answers (events, sessions, lockouts,
// timeseries, stats) is the wire contract: import those types from @authwatch/wire.
import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';
import type { StatName } from '@authwatch/wire';

export type { StatName };

/** What a query asks the collector for. */
export type QueryType = 'events' | 'sessions' | 'lockouts' | 'timeseries' | 'stats' | 'annotations';

export type EventsFormat = 'logs' | 'table';
export type SessionState = 'active' | 'ended' | 'all';
export type LockoutState = 'locked' | 'all';
export type GroupBy = 'outcome' | 'reason' | 'service' | 'country' | 'type';

/** Event filters; every value may hold template variables (multi-value ones included). */
export interface EventFilters {
  user?: string;
  eventType?: string;
  outcome?: string;
  reason?: string;
  ip?: string;
  service?: string;
  country?: string;
  /** Free text, sent as `q`. */
  search?: string;
}

export interface AuthwatchQuery extends DataQuery, EventFilters {
  queryType?: QueryType;
  /** events: logs (Explore / logs panel) or table. */
  format?: EventsFormat;
  /** sessions */
  sessionState?: SessionState;
  /** lockouts */
  lockoutState?: LockoutState;
  /** timeseries */
  groupBy?: GroupBy;
  /** stats: which numbers to return; all when empty. */
  stats?: StatName[];
  /** events / sessions: row cap (collector allows up to 1000). */
  limit?: number;
}

export const DEFAULT_QUERY: Partial<AuthwatchQuery> = {
  queryType: 'events',
  format: 'table',
  limit: 500,
};

/** Data source settings visible to every viewer (jsonData). */
export interface AuthwatchOptions extends DataSourceJsonData {
  /** Collector base URL, e.g. http://collector:4600 (reached by the Grafana server, not the browser). */
  url?: string;
  /** Show IP, ISP and location columns. */
  showDetails?: boolean;
  /** Viewers see only their own events (collector reads X-Grafana-User). */
  selfView?: boolean;
}

/** Secrets: stored encrypted by Grafana, injected by plugin.json routes, never sent to the browser. */
export interface AuthwatchSecureOptions {
  readKey?: string;
  adminKey?: string;
}
