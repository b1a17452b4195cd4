import {
  dateTime,
  FieldType,
  type DataFrame,
  type DataQueryRequest,
  type DataSourceInstanceSettings,
  type TimeRange,
} from '@grafana/data';
import type { StoredEvent } from '@authwatch/wire';
import type { AuthwatchOptions, AuthwatchQuery } from '../types';

export const PROXY = '/api/datasources/proxy/uid/aw1';
export const FROM = 1_700_000_000_000;
export const TO = FROM + 3_600_000;

export function range(): TimeRange {
  const from = dateTime(FROM);
  const to = dateTime(TO);
  return { from, to, raw: { from, to } };
}

export function settings(jsonData: AuthwatchOptions = { url: 'http://collector:4600' }): DataSourceInstanceSettings<AuthwatchOptions> {
  return {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- still required by the 12.4 type
    id: 1,
    uid: 'aw1',
    type: 'authwatch-activity-datasource',
    name: 'Authwatch',
    url: PROXY,
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: {} as DataSourceInstanceSettings['meta'],
  };
}

export function request(targets: AuthwatchQuery[], intervalMs = 60_000): DataQueryRequest<AuthwatchQuery> {
  return {
    requestId: 'Q1',
    interval: '1m',
    intervalMs,
    range: range(),
    scopedVars: {},
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: 0,
  };
}

export function event(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: 'e1',
    time: FROM + 1000,
    received_at: FROM + 1001,
    type: 'login',
    outcome: 'failure',
    reason: 'invalid_password',
    user: 'alice',
    user_id: 'u-1',
    email: 'alice@example.com',
    session_id: null,
    ip: '203.0.113.7',
    user_agent: 'Mozilla/5.0',
    device: null,
    app_version: '1.2.3',
    service: 'portal',
    entry: 'web',
    attributes: null,
    actor: null,
    country: 'DE',
    city: 'Berlin',
    latitude: 52.5,
    longitude: 13.4,
    asn: 64500,
    isp: 'Example ISP',
    browser: 'Firefox',
    browser_version: '128',
    os: 'Linux',
    os_version: null,
    device_type: 'desktop',
    ...overrides,
  };
}

/** name → type of every field, the shape Inspect → Data and the CSV export rely on. */
export function shape(frame: DataFrame): Record<string, FieldType> {
  return Object.fromEntries(frame.fields.map((f) => [f.name, f.type]));
}

export function column(frame: DataFrame, name: string): unknown[] {
  const field = frame.fields.find((f) => f.name === name);
  if (!field) {
    throw new Error(`frame ${frame.name} has no field ${name}; it has ${frame.fields.map((f) => f.name).join(', ')}`);
  }
  return [...field.values];
}
