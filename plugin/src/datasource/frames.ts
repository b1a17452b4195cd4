import { createDataFrame, FieldType, type DataFrame, type FieldConfig } from '@grafana/data';
import type { EventsPage, LockoutsList, SessionsList, StatName, Stats, StoredEvent, Timeseries } from '@authwatch/wire';
import type { GroupBy } from './types';

/** Options that shape frames: the data source's detail toggle and the query's refId. */
export interface FrameOptions {
  refId: string;
  showDetails: boolean;
}

type Column<R> = {
  name: string;
  type: FieldType;
  value: (row: R) => unknown;
  config?: FieldConfig;
  /** IP, ISP, city, coordinates: only when the data source's detail toggle is on. */
  detail?: boolean;
};

function table<R>(rows: R[], columns: Array<Column<R>>, options: FrameOptions): DataFrame {
  return createDataFrame({
    refId: options.refId,
    fields: columns
      .filter((c) => options.showDetails || !c.detail)
      .map((c) => ({
        name: c.name,
        type: c.type,
        config: c.config ?? {},
        values: rows.map((r) => c.value(r) ?? null),
      })),
  });
}

const text = (displayName: string): FieldConfig => ({ displayName });

const EVENT_COLUMNS: Array<Column<StoredEvent>> = [
  { name: 'time', type: FieldType.time, value: (e) => e.time, config: text('Time') },
  { name: 'type', type: FieldType.string, value: (e) => e.type, config: text('Type') },
  { name: 'outcome', type: FieldType.string, value: (e) => e.outcome, config: text('Outcome') },
  { name: 'reason', type: FieldType.string, value: (e) => e.reason, config: text('Reason') },
  { name: 'user', type: FieldType.string, value: (e) => e.user, config: text('User') },
  { name: 'service', type: FieldType.string, value: (e) => e.service, config: text('Service') },
  { name: 'entry', type: FieldType.string, value: (e) => e.entry, config: text('Entry') },
  { name: 'country', type: FieldType.string, value: (e) => e.country, config: text('Country') },
  { name: 'city', type: FieldType.string, value: (e) => e.city, config: text('City'), detail: true },
  { name: 'ip', type: FieldType.string, value: (e) => e.ip, config: text('IP'), detail: true },
  { name: 'isp', type: FieldType.string, value: (e) => e.isp, config: text('ISP'), detail: true },
  { name: 'asn', type: FieldType.number, value: (e) => e.asn, config: text('ASN'), detail: true },
  { name: 'latitude', type: FieldType.number, value: (e) => e.latitude, config: text('Latitude'), detail: true },
  { name: 'longitude', type: FieldType.number, value: (e) => e.longitude, config: text('Longitude'), detail: true },
  { name: 'browser', type: FieldType.string, value: (e) => e.browser, config: text('Browser') },
  { name: 'os', type: FieldType.string, value: (e) => e.os, config: text('OS') },
  { name: 'device_type', type: FieldType.string, value: (e) => e.device_type, config: text('Device') },
  { name: 'actor', type: FieldType.string, value: (e) => e.actor, config: text('Actor') },
  { name: 'id', type: FieldType.string, value: (e) => e.id, config: text('Event ID') },
];

function totalNotice(frame: DataFrame, response: EventsPage): DataFrame {
  if (response.total > response.events.length) {
    frame.meta = {
      ...frame.meta,
      notices: [
        {
          severity: 'info',
          text: `Showing the newest ${response.events.length} of ${response.total} matching events; narrow the filters or time range, or download the CSV for all of them.`,
        },
      ],
    };
  }
  return frame;
}

export function eventsTableFrame(response: EventsPage, options: FrameOptions): DataFrame {
  const frame = table(response.events, EVENT_COLUMNS, options);
  frame.name = 'events';
  frame.meta = { preferredVisualisationType: 'table', custom: { total: response.total } };
  return totalNotice(frame, response);
}

/** Log level Grafana colours by: failures warn, lockouts and detections are errors. */
export function eventLevel(event: Pick<StoredEvent, 'type' | 'outcome'>): 'error' | 'warning' | 'info' {
  if (event.type === 'lockout' || event.type === 'detection') {
    return 'error';
  }
  return event.outcome === 'failure' ? 'warning' : 'info';
}

/** One readable log line per event, e.g. `login failure invalid_password user=alice service=portal`. */
export function eventLine(event: StoredEvent, showDetails: boolean): string {
  const parts: string[] = [event.type];
  if (event.outcome) {
    parts.push(event.outcome);
  }
  if (event.reason) {
    parts.push(event.reason);
  }
  const pairs: Array<[string, unknown]> = [
    ['user', event.user],
    ['service', event.service],
    ['country', event.country],
    ['browser', event.browser],
    ['os', event.os],
    ['actor', event.actor],
  ];
  if (showDetails) {
    pairs.push(['ip', event.ip], ['city', event.city], ['isp', event.isp]);
  }
  for (const [key, value] of pairs) {
    if (value !== null && value !== undefined && value !== '') {
      const v = String(value);
      parts.push(`${key}=${/\s/.test(v) ? JSON.stringify(v) : v}`);
    }
  }
  return parts.join(' ');
}

function eventLabels(event: StoredEvent, showDetails: boolean): Record<string, string> {
  const labels: Record<string, string> = { type: event.type, user: event.user };
  const optional: Array<[string, string | null]> = [
    ['outcome', event.outcome],
    ['reason', event.reason],
    ['service', event.service],
    ['country', event.country],
    ['device_type', event.device_type],
  ];
  if (showDetails) {
    optional.push(['ip', event.ip]);
  }
  for (const [key, value] of optional) {
    if (value) {
      labels[key] = value;
    }
  }
  return labels;
}

/** Events as a logs frame: Explore and the logs panel show it as log lines with levels and labels. */
export function eventsLogsFrame(response: EventsPage, options: FrameOptions): DataFrame {
  const events = response.events;
  const frame = createDataFrame({
    refId: options.refId,
    name: 'events',
    // frameType LabeledTimeValues: Grafana releases before the dataplane logs parser read the
    // per-row `labels` field only with this marker; newer ones read it either way.
    meta: { preferredVisualisationType: 'logs', custom: { total: response.total, frameType: 'LabeledTimeValues' } },
    fields: [
      { name: 'time', type: FieldType.time, values: events.map((e) => e.time) },
      { name: 'body', type: FieldType.string, values: events.map((e) => eventLine(e, options.showDetails)) },
      { name: 'level', type: FieldType.string, values: events.map(eventLevel) },
      { name: 'id', type: FieldType.string, values: events.map((e) => e.id) },
      { name: 'labels', type: FieldType.other, values: events.map((e) => eventLabels(e, options.showDetails)) },
    ],
  });
  return totalNotice(frame, response);
}

export function sessionsFrame(response: SessionsList, options: FrameOptions, now = Date.now()): DataFrame {
  const frame = table(
    response.sessions,
    [
      { name: 'id', type: FieldType.string, value: (s) => s.id, config: text('Session') },
      { name: 'user', type: FieldType.string, value: (s) => s.user, config: text('User') },
      { name: 'state', type: FieldType.string, value: (s) => s.state, config: text('State') },
      { name: 'started_at', type: FieldType.time, value: (s) => s.started_at, config: text('Started') },
      { name: 'last_seen_at', type: FieldType.time, value: (s) => s.last_seen_at, config: text('Last seen') },
      { name: 'ended_at', type: FieldType.time, value: (s) => s.ended_at, config: text('Ended') },
      {
        name: 'duration',
        type: FieldType.number,
        value: (s) => (s.ended_at ?? (s.state === 'active' ? now : s.last_seen_at ?? s.started_at)) - s.started_at,
        config: { displayName: 'Duration', unit: 'ms' },
      },
      { name: 'end_reason', type: FieldType.string, value: (s) => s.end_reason, config: text('End reason') },
      { name: 'service', type: FieldType.string, value: (s) => s.service, config: text('Service') },
      { name: 'country', type: FieldType.string, value: (s) => s.country, config: text('Country') },
      { name: 'city', type: FieldType.string, value: (s) => s.city, config: text('City'), detail: true },
      { name: 'ip', type: FieldType.string, value: (s) => s.ip, config: text('IP'), detail: true },
      { name: 'browser', type: FieldType.string, value: (s) => s.browser, config: text('Browser') },
      { name: 'os', type: FieldType.string, value: (s) => s.os, config: text('OS') },
      { name: 'device', type: FieldType.string, value: (s) => s.device, config: text('Device') },
      { name: 'device_type', type: FieldType.string, value: (s) => s.device_type, config: text('Device type') },
    ],
    options
  );
  frame.name = 'sessions';
  frame.meta = { preferredVisualisationType: 'table' };
  return frame;
}

export function lockoutsFrame(response: LockoutsList, options: FrameOptions): DataFrame {
  const frame = table(
    response.lockouts,
    [
      { name: 'user', type: FieldType.string, value: (l) => l.user, config: text('User') },
      { name: 'scope', type: FieldType.string, value: (l) => l.scope, config: text('Scope') },
      // The IP is what a lock of scope ip / user_ip is about, so it stays even without details.
      { name: 'ip', type: FieldType.string, value: (l) => l.ip, config: text('IP') },
      { name: 'failures', type: FieldType.number, value: (l) => l.failures, config: text('Failures') },
      { name: 'locked_at', type: FieldType.time, value: (l) => l.locked_at, config: text('Locked at') },
      { name: 'locked_until', type: FieldType.time, value: (l) => l.locked_until, config: text('Locked until') },
      { name: 'permanent', type: FieldType.boolean, value: (l) => l.locked_until === null, config: text('Until unlocked') },
      { name: 'reason', type: FieldType.string, value: (l) => l.reason, config: text('Reason') },
    ],
    options
  );
  frame.name = 'lockouts';
  frame.meta = { preferredVisualisationType: 'table' };
  return frame;
}

/** One frame per series, the group in a label, so legends and overrides work per key. */
export function timeseriesFrames(response: Timeseries, groupBy: GroupBy, options: FrameOptions): DataFrame[] {
  return response.series.map((series) => {
    const key = series.key ?? 'unknown';
    return createDataFrame({
      refId: options.refId,
      name: key,
      meta: { preferredVisualisationType: 'graph', custom: { intervalMs: response.interval_ms } },
      fields: [
        { name: 'time', type: FieldType.time, values: series.points.map((p) => p[0]) },
        {
          name: 'count',
          type: FieldType.number,
          values: series.points.map((p) => p[1]),
          labels: { [groupBy]: key },
          config: { displayNameFromDS: key, unit: 'short', decimals: 0 },
        },
      ],
    });
  });
}

export const STAT_FIELDS: Record<StatName, FieldConfig> = {
  logins: { displayName: 'Logins', unit: 'short', decimals: 0 },
  failures: { displayName: 'Failed logins', unit: 'short', decimals: 0 },
  failure_ratio: { displayName: 'Failure ratio', unit: 'percentunit', min: 0, max: 1 },
  active_sessions: { displayName: 'Active sessions', unit: 'short', decimals: 0 },
  locked_accounts: { displayName: 'Locked accounts', unit: 'short', decimals: 0 },
  unique_users: { displayName: 'Unique users', unit: 'short', decimals: 0 },
};

export const ALL_STATS = Object.keys(STAT_FIELDS) as StatName[];

export function statsFrame(response: Stats, stats: StatName[] | undefined, options: FrameOptions): DataFrame {
  const wanted = stats && stats.length ? stats : ALL_STATS;
  return createDataFrame({
    refId: options.refId,
    name: 'stats',
    fields: wanted.map((name) => ({
      name,
      type: FieldType.number,
      values: [typeof response[name] === 'number' ? response[name] : null],
      config: STAT_FIELDS[name],
    })),
  });
}

/** Lockouts, unlocks and admin actions as annotations (time, title, text, tags). */
export function annotationsFrame(response: EventsPage, options: FrameOptions): DataFrame {
  const events = response.events;
  return createDataFrame({
    refId: options.refId,
    name: 'annotations',
    fields: [
      { name: 'time', type: FieldType.time, values: events.map((e) => e.time) },
      { name: 'title', type: FieldType.string, values: events.map((e) => annotationTitle(e)) },
      { name: 'text', type: FieldType.string, values: events.map((e) => eventLine(e, options.showDetails)) },
      {
        name: 'tags',
        type: FieldType.other,
        values: events.map((e) => [e.type, e.reason, e.service].filter((t): t is string => Boolean(t))),
      },
    ],
  });
}

function annotationTitle(event: StoredEvent): string {
  switch (event.type) {
    case 'lockout':
      return `Locked: ${event.user}${event.reason ? ` (${event.reason})` : ''}`;
    case 'unlock':
      return `Unlocked: ${event.user}${event.actor ? ` by ${event.actor}` : ''}`;
    case 'admin':
      return `Admin action${event.reason ? ` ${event.reason}` : ''} on ${event.user}${event.actor ? ` by ${event.actor}` : ''}`;
    default:
      return `${event.type} ${event.outcome ?? ''} ${event.user}`.replace(/\s+/g, ' ').trim();
  }
}
