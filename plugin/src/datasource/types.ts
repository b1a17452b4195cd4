import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';

/** What a query asks the collector for. */
export type QueryType = 'events' | 'sessions' | 'lockouts' | 'timeseries' | 'stats' | 'annotations';

export type EventsFormat = 'logs' | 'table';
export type SessionState = 'active' | 'ended' | 'all';
export type LockoutState = 'locked' | 'all';
export type GroupBy = 'outcome' | 'reason' | 'service' | 'country' | 'type';
export type StatName = 'logins' | 'failures' | 'failure_ratio' | 'active_sessions' | 'locked_accounts' | 'unique_users';

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

// ---- Collector wire shapes (GET /v1/...) ----

export interface CollectorEvent {
  id: string;
  time: number;
  received_at: number;
  type: string;
  outcome: 'success' | 'failure' | null;
  reason: string | null;
  user: string;
  user_id: string | null;
  email: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  device: string | null;
  app_version: string | null;
  service: string | null;
  entry: string | null;
  attributes: Record<string, string | number | boolean> | null;
  actor: string | null;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
  isp: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  os_version: string | null;
  device_type: string | null;
}

export interface EventsResponse {
  events: CollectorEvent[];
  total: number;
  next_cursor: string | null;
}

export interface CollectorSession {
  id: string;
  user: string;
  ip: string | null;
  country: string | null;
  city: string | null;
  browser: string | null;
  os: string | null;
  device: string | null;
  device_type?: string | null;
  service: string | null;
  started_at: number;
  last_seen_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  state: 'active' | 'ended';
}

export interface SessionsResponse {
  sessions: CollectorSession[];
}

export interface CollectorLockout {
  user: string | null;
  scope: 'user' | 'user_ip' | 'ip';
  ip: string | null;
  failures: number;
  locked_at: number;
  locked_until: number | null;
  reason: string | null;
}

export interface LockoutsResponse {
  lockouts: CollectorLockout[];
}

export interface TimeseriesResponse {
  interval_ms: number;
  series: Array<{ key: string | null; points: Array<[number, number]> }>;
}

export type StatsResponse = Record<StatName, number>;

export interface ValuesResponse {
  values: Array<string | number>;
}

export interface WhoamiResponse {
  role: string;
  key: string;
}
