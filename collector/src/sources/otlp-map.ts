// OTLP log records (the JSON object shape; protobuf is decoded to the same shape) → request-side
// events. A record is an auth event when its event name (or attribute event.name /
// authwatch.event.type) names an ingest kind, with or without the "authwatch." prefix; anything
// else is counted as skipped. Attribute names follow the semantic conventions the collector's own
// exporter writes (sinks/otel-log-record.ts), so Authwatch → OTLP → Authwatch round-trips.
import { createHash } from 'node:crypto';
import type { IngestEvent } from '../schema/event';
import { INGEST_TYPES, type AttributeValue } from '../schema/stored-event';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
interface KeyValue {
  key?: string;
  value?: AnyValue;
}
export interface OtlpLogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  eventName?: string;
  attributes?: KeyValue[];
}
export interface OtlpLogsRequest {
  resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { logRecords?: OtlpLogRecord[] }[] }[];
}

function valueOf(v: AnyValue | undefined): Json {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  if (v.kvlistValue) return flatten(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

function flatten(kvs: KeyValue[] | undefined): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const kv of kvs ?? []) if (kv.key) out[kv.key] = valueOf(kv.value);
  return out;
}

const KINDS = new Set<string>(INGEST_TYPES);
const CUSTOM = 'authwatch.attr.';

/** The event kind a record names, or null when it is not an auth event. */
export function kindOf(record: OtlpLogRecord, attrs: Record<string, Json>): string | null {
  const name = record.eventName || str(attrs['event.name']) || str(attrs['authwatch.event.type']);
  if (!name) return null;
  const kind = name.startsWith('authwatch.') ? name.slice('authwatch.'.length) : name;
  return KINDS.has(kind) ? kind : null;
}

function str(v: Json | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function nanosToMs(v: string | number | undefined): number | undefined {
  if (v === undefined || v === '' || v === 0 || v === '0') return undefined;
  const ms = typeof v === 'number' ? Math.floor(v / 1e6) : Number(BigInt(v) / 1_000_000n);
  return ms > 0 ? ms : undefined;
}

/**
 * The record as an ingest event (not yet validated: schema/event.ts does that, as for POST
 * /v1/events). Values of the wrong JSON type are passed through so validation names them.
 */
export function recordToEvent(record: OtlpLogRecord, kind: string, attrs: Record<string, Json>, resource: Record<string, Json>): Record<string, unknown> {
  const pick = (...keys: string[]) => {
    for (const k of keys) if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== '') return attrs[k];
    return undefined;
  };
  const custom: Record<string, AttributeValue> = {};
  let hasCustom = false;
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith(CUSTOM) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
      custom[k.slice(CUSTOM.length)] = v;
      hasCustom = true;
    }
  }
  const time = nanosToMs(record.timeUnixNano) ?? nanosToMs(record.observedTimeUnixNano);
  const ev: Record<string, unknown> = {
    // Without an explicit id, a digest of the record: an exporter's retry of the same record is a duplicate.
    id: pick('authwatch.event.id') ?? 'otlp-' + createHash('sha1').update(JSON.stringify([record.timeUnixNano, kind, record.attributes, resource['service.name']])).digest('base64url'),
    time,
    type: kind,
    outcome: pick('authwatch.outcome', 'event.outcome'),
    reason: pick('authwatch.reason', 'event.reason'),
    user: pick('user.name'),
    user_id: pick('user.id'),
    email: pick('user.email'),
    session_id: pick('session.id'),
    ip: pick('client.address', 'source.address'),
    user_agent: pick('user_agent.original'),
    device: pick('authwatch.device'),
    app_version: pick('authwatch.app_version'),
    service: pick('authwatch.service') ?? str(resource['service.name']),
    entry: pick('authwatch.entry'),
    attributes: hasCustom ? custom : undefined,
  };
  for (const k of Object.keys(ev)) if (ev[k] === undefined) delete ev[k];
  return ev;
}

export interface MappedRequest {
  events: Record<string, unknown>[];
  /** Records that are not auth events. */
  skipped: number;
  total: number;
}

export function mapLogsRequest(body: OtlpLogsRequest): MappedRequest {
  const events: Record<string, unknown>[] = [];
  let skipped = 0;
  let total = 0;
  for (const rl of body.resourceLogs ?? []) {
    const resource = flatten(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      for (const record of sl.logRecords ?? []) {
        total++;
        const attrs = flatten(record.attributes);
        const kind = kindOf(record, attrs);
        if (kind) events.push(recordToEvent(record, kind, attrs, resource));
        else skipped++;
      }
    }
  }
  return { events, skipped, total };
}
