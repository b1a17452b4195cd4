import {
  DataSourceApi,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type ScopedVars,
  type TestDataSourceResponse,
  type TimeRange,
} from '@grafana/data';
import { getTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import { CollectorClient, CollectorError, type Params } from './client';
import {
  annotationsFrame,
  eventsLogsFrame,
  eventsTableFrame,
  lockoutsFrame,
  sessionsFrame,
  statsFrame,
  timeseriesFrames,
  type FrameOptions,
} from './frames';
import { clampLimit, FILTER_PARAMS, filterParams, interpolateFilter, MAX_SESSIONS_LIMIT, rangeParams } from './params';
import type { EventsPage, LockoutsList, SessionsList, Stats, Timeseries, Values, Whoami } from '@authwatch/wire';
import { DEFAULT_QUERY, type AuthwatchOptions, type AuthwatchQuery } from './types';

/** Event kinds shown as annotations unless the annotation query names others. */
export const ANNOTATION_TYPES = 'lockout,unlock,admin';

/** Fields GET /v1/values/:field answers for (template variables). */
export const VALUE_FIELDS = ['user', 'service', 'reason', 'country', 'type', 'ip', 'outcome'] as const;

/** The collector answers at most this many buckets per series (collector MAX_BUCKETS is 11,000). */
export const MAX_BUCKETS = 10_000;

/** Grafana's interval for the panel, widened when the range would need more buckets than allowed. */
export function bucketInterval(range: TimeRange, intervalMs: number): number {
  const span = Math.max(0, range.to.valueOf() - range.from.valueOf());
  const wanted = Math.max(1000, Math.round(intervalMs || 60_000));
  return Math.max(wanted, Math.ceil(span / MAX_BUCKETS / 1000) * 1000);
}

/**
 * One path segment of an action URL. A user name or session id comes from collector data; "." or
 * ".." (or empty) would make the browser resolve the URL to a different path, so they are refused.
 */
export function segment(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new Error(`"${value}" cannot be used in an action URL`);
  }
  return encodeURIComponent(value);
}

export class DataSource extends DataSourceApi<AuthwatchQuery, AuthwatchOptions> {
  readonly client: CollectorClient;
  readonly showDetails: boolean;
  readonly hasUrl: boolean;

  constructor(
    instanceSettings: DataSourceInstanceSettings<AuthwatchOptions>,
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.client = new CollectorClient(instanceSettings.url ?? '');
    this.showDetails = Boolean(instanceSettings.jsonData.showDetails);
    this.hasUrl = Boolean(instanceSettings.jsonData.url);
    // Annotation queries use the regular query editor with query type "annotations";
    // Grafana turns the returned time/title/text/tags frame into annotations.
    this.annotations = {
      prepareAnnotation: (annotation) => {
        const target = (annotation.target ?? {}) as Partial<AuthwatchQuery>;
        return {
          ...annotation,
          target: { ...target, refId: target.refId ?? 'Anno', queryType: 'annotations' } as AuthwatchQuery,
        };
      },
    };
  }

  getDefaultQuery(): Partial<AuthwatchQuery> {
    return DEFAULT_QUERY;
  }

  filterQuery(query: AuthwatchQuery): boolean {
    return !query.hide;
  }

  /**
   * Resolves variables when queries leave the dashboard (Open in Explore, panel links): multi
   * values become a comma list, which the collector splits; "All" clears the filter.
   */
  interpolateVariablesInQueries(queries: AuthwatchQuery[], scopedVars: ScopedVars): AuthwatchQuery[] {
    return queries.map((query) => {
      const resolved: AuthwatchQuery = { ...query };
      for (const [field] of FILTER_PARAMS) {
        const values = interpolateFilter(this.templateSrv, query[field], scopedVars);
        resolved[field] = values ? values.join(',') : undefined;
      }
      return resolved;
    });
  }

  async query(request: DataQueryRequest<AuthwatchQuery>): Promise<DataQueryResponse> {
    const results = await Promise.allSettled(
      request.targets.filter((t) => !t.hide).map((t) => this.runQuery(t, request))
    );
    const data: DataFrame[] = [];
    const errors: DataQueryResponse['errors'] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        data.push(...result.value);
      } else {
        const refId = request.targets.filter((t) => !t.hide)[i].refId;
        const reason: unknown = result.reason;
        errors.push({ refId, message: reason instanceof Error ? reason.message : String(reason) });
      }
    });
    return errors.length ? { data, errors, error: errors[0] } : { data };
  }

  /** Runs one target; exported for tests through query(). */
  private async runQuery(query: AuthwatchQuery, request: DataQueryRequest<AuthwatchQuery>): Promise<DataFrame[]> {
    const options: FrameOptions = { refId: query.refId, showDetails: this.showDetails };
    const requestId = `${request.requestId}-${query.refId}`;
    const kind = query.queryType ?? 'events';
    const scoped = request.scopedVars;
    switch (kind) {
      case 'events': {
        const response = await this.client.get<EventsPage>(
          '/events',
          this.eventsParams(query, request.range, scoped),
          'loading events',
          requestId
        );
        return [query.format === 'logs' ? eventsLogsFrame(response, options) : eventsTableFrame(response, options)];
      }
      case 'annotations': {
        const params = this.eventsParams({ ...query, eventType: query.eventType || ANNOTATION_TYPES }, request.range, scoped);
        const response = await this.client.get<EventsPage>('/events', params, 'loading annotations', requestId);
        return [annotationsFrame(response, options)];
      }
      case 'sessions': {
        const response = await this.client.get<SessionsList>(
          '/sessions',
          this.sessionsParams(query, request.range, scoped),
          'loading sessions',
          requestId
        );
        return [sessionsFrame(response, options)];
      }
      case 'lockouts': {
        const response = await this.client.get<LockoutsList>(
          '/lockouts',
          this.lockoutsParams(query, scoped),
          'loading lockouts',
          requestId
        );
        return [lockoutsFrame(response, options)];
      }
      case 'timeseries': {
        const groupBy = query.groupBy ?? 'outcome';
        const response = await this.client.get<Timeseries>(
          '/timeseries',
          this.timeseriesParams(query, request.range, request.intervalMs, scoped),
          'loading the time series',
          requestId
        );
        return timeseriesFrames(response, groupBy, options);
      }
      case 'stats': {
        const response = await this.client.get<Stats>(
          '/stats',
          { ...rangeParams(request.range), ...filterParams(query, this.templateSrv, scoped) },
          'loading stats',
          requestId
        );
        return [statsFrame(response, query.stats, options)];
      }
      default:
        throw new Error(`Unknown query type "${String(kind)}"`);
    }
  }

  eventsParams(query: AuthwatchQuery, range: TimeRange, scopedVars: ScopedVars = {}): Params {
    return {
      ...rangeParams(range),
      ...filterParams(query, this.templateSrv, scopedVars),
      limit: clampLimit(query.limit, DEFAULT_QUERY.limit ?? 500),
      order: 'desc',
    };
  }

  sessionsParams(query: AuthwatchQuery, range: TimeRange, scopedVars: ScopedVars = {}): Params {
    const state = query.sessionState ?? 'active';
    return {
      state,
      user: interpolateFilter(this.templateSrv, query.user, scopedVars),
      // Active sessions are current whatever the dashboard range; history is bounded by it.
      ...(state === 'active' ? {} : rangeParams(range)),
      limit: clampLimit(query.limit, DEFAULT_QUERY.limit ?? 500, MAX_SESSIONS_LIMIT),
    };
  }

  lockoutsParams(query: AuthwatchQuery, scopedVars: ScopedVars = {}): Params {
    return {
      state: query.lockoutState ?? 'locked',
      user: interpolateFilter(this.templateSrv, query.user, scopedVars),
    };
  }

  timeseriesParams(query: AuthwatchQuery, range: TimeRange, intervalMs: number, scopedVars: ScopedVars = {}): Params {
    return {
      ...rangeParams(range),
      interval_ms: bucketInterval(range, intervalMs),
      group_by: query.groupBy ?? 'outcome',
      ...filterParams(query, this.templateSrv, scopedVars),
    };
  }

  /**
   * Template variable values. The query is a field name (user, service, reason, country, type,
   * ip, outcome), optionally followed by text to match: `user ali`.
   */
  async metricFindQuery(query: string, options?: { range?: TimeRange; scopedVars?: ScopedVars }): Promise<MetricFindValue[]> {
    const text = this.templateSrv.replace(String(query ?? ''), options?.scopedVars).trim();
    const [field, ...rest] = text.split(/\s+/);
    if (!(VALUE_FIELDS as readonly string[]).includes(field)) {
      throw new Error(`Variable query must start with one of: ${VALUE_FIELDS.join(', ')} (got "${field ?? ''}")`);
    }
    const params: Params = { ...(options?.range ? rangeParams(options.range) : {}), q: rest.join(' ') || undefined, limit: 1000 };
    const response = await this.client.get<Values>(
      `/values/${encodeURIComponent(field)}`,
      params,
      `loading ${field} values`
    );
    return response.values.map((v) => ({ text: String(v), value: v }));
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    if (!this.hasUrl) {
      return { status: 'error', message: 'Set the collector URL, then save & test again.' };
    }
    try {
      const who = await this.client.get<Whoami>('/whoami', {}, 'checking the read key');
      if (who.role !== 'read' && who.role !== 'admin') {
        return {
          status: 'error',
          message: `Key rejected: the read key "${who.key}" has role ${who.role}; queries need a key with role read (or admin).`,
        };
      }
      return {
        status: 'success',
        message: `Connected to the Authwatch collector; the read key "${who.key}" has role ${who.role}.`,
      };
    } catch (err) {
      if (err instanceof CollectorError) {
        switch (err.kind) {
          case 'unreachable':
            return { status: 'error', message: `Collector unreachable: ${err.message}` };
          case 'unauthorized':
          case 'forbidden':
            return { status: 'error', message: `Key rejected by the collector: ${err.message}` };
          default:
            return { status: 'error', message: err.message };
        }
      }
      throw err;
    }
  }

  // ---- Actions (the sessions panel calls these; admin key, Grafana Editor role or above) ----

  async terminateSession(id: string): Promise<void> {
    await this.client.post(`/sessions/${segment(id)}/terminate`, `ending session ${id}`);
  }

  async terminateUserSessions(user: string): Promise<number> {
    const result = await this.client.post<{ terminated: number }>(
      `/users/${segment(user)}/sessions/terminate`,
      `ending the sessions of ${user}`
    );
    return result.terminated;
  }

  async unlockUser(user: string): Promise<number> {
    const result = await this.client.post<{ unlocked: number }>(
      `/users/${segment(user)}/unlock`,
      `unlocking ${user}`
    );
    return result.unlocked;
  }

  async unlockIp(ip: string): Promise<number> {
    const result = await this.client.post<{ unlocked: number }>(`/ips/${segment(ip)}/unlock`, `unlocking ${ip}`);
    return result.unlocked;
  }

  /** Proxy URL of GET /v1/events.csv with the query's filters and the range: a download link. */
  csvUrl(query: AuthwatchQuery, range: TimeRange, scopedVars: ScopedVars = {}): string {
    const { limit: _limit, order: _order, ...params } = this.eventsParams(query, range, scopedVars);
    return this.client.readUrl('/events.csv', params);
  }
}
