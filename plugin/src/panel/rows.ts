// Turns the data source's sessions / lockouts frames into typed rows for the table.
import type { DataFrame, Field } from '@grafana/data';

import type { LockoutViewRow, LockoutScope, SessionViewRow } from './types';

const sessionFields = ['id', 'user', 'state', 'started_at'];
const lockoutFields = ['user', 'scope', 'failures', 'locked_at'];

function fieldByName(frame: DataFrame, name: string): Field | undefined {
  return frame.fields.find((f) => f.name === name);
}

function hasFields(frame: DataFrame, names: string[]): boolean {
  return names.every((n) => fieldByName(frame, n));
}

export function isSessionsFrame(frame: DataFrame): boolean {
  return hasFields(frame, sessionFields);
}

export function isLockoutsFrame(frame: DataFrame): boolean {
  return hasFields(frame, lockoutFields);
}

type Getter<T> = (i: number) => T;

function strings(frame: DataFrame, name: string): Getter<string | null> {
  const values = fieldByName(frame, name)?.values;
  return (i) => {
    const v = values?.[i];
    return v === undefined || v === null || v === '' ? null : String(v);
  };
}

/** Time fields arrive as epoch ms numbers; tolerate ISO strings too. */
function times(frame: DataFrame, name: string): Getter<number | null> {
  const values = fieldByName(frame, name)?.values;
  return (i) => {
    const v: unknown = values?.[i];
    if (v === undefined || v === null || v === '') {
      return null;
    }
    const n = typeof v === 'number' ? v : Date.parse(String(v));
    return Number.isFinite(n) ? n : null;
  };
}

export function sessionRows(frames: DataFrame[]): SessionViewRow[] {
  const rows: SessionViewRow[] = [];
  for (const frame of frames.filter(isSessionsFrame)) {
    const id = strings(frame, 'id');
    const user = strings(frame, 'user');
    const state = strings(frame, 'state');
    const ip = strings(frame, 'ip');
    const country = strings(frame, 'country');
    const city = strings(frame, 'city');
    const browser = strings(frame, 'browser');
    const os = strings(frame, 'os');
    const device = strings(frame, 'device');
    const deviceType = strings(frame, 'device_type');
    const service = strings(frame, 'service');
    const startedAt = times(frame, 'started_at');
    const lastSeenAt = times(frame, 'last_seen_at');
    const endedAt = times(frame, 'ended_at');
    const endReason = strings(frame, 'end_reason');
    for (let i = 0; i < frame.length; i++) {
      rows.push({
        id: id(i) ?? '',
        user: user(i) ?? '',
        state: state(i) === 'active' ? 'active' : 'ended',
        ip: ip(i),
        country: country(i),
        city: city(i),
        browser: browser(i),
        os: os(i),
        device: device(i),
        deviceType: deviceType(i),
        service: service(i),
        startedAt: startedAt(i),
        lastSeenAt: lastSeenAt(i),
        endedAt: endedAt(i),
        endReason: endReason(i),
      });
    }
  }
  return rows;
}

// Every scope of the wire contract (a missing or unknown one fails to compile).
const scopes: Record<LockoutScope, true> = { user: true, user_ip: true, ip: true };

export function lockoutRows(frames: DataFrame[]): LockoutViewRow[] {
  const rows: LockoutViewRow[] = [];
  for (const frame of frames.filter(isLockoutsFrame)) {
    const user = strings(frame, 'user');
    const scope = strings(frame, 'scope');
    const ip = strings(frame, 'ip');
    const failures = fieldByName(frame, 'failures')?.values;
    const lockedAt = times(frame, 'locked_at');
    const lockedUntil = times(frame, 'locked_until');
    const reason = strings(frame, 'reason');
    for (let i = 0; i < frame.length; i++) {
      const s = scope(i) as LockoutScope | null;
      const row: Omit<LockoutViewRow, 'key'> = {
        user: user(i),
        scope: s && Object.hasOwn(scopes, s) ? s : 'user',
        ip: ip(i),
        failures: Number(failures?.[i] ?? 0),
        lockedAt: lockedAt(i),
        lockedUntil: lockedUntil(i),
        reason: reason(i),
      };
      rows.push({ ...row, key: `${row.scope}|${row.user ?? ''}|${row.ip ?? ''}` });
    }
  }
  return rows;
}
