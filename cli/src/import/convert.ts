// Records of the importable formats → events POST /v1/events takes. Stored events (the API's
// JSON, the CSV export) carry fields the collector adds itself (enrichment, received_at, actor):
// those are dropped, the collector computes them again. Events of the kinds only the collector
// writes are skipped. Anything else is sent as it is, and the collector judges it.
import { readCell } from '@authwatch/collector/dist/schema/csv-cell';

/** The shape POST /v1/events takes (validated there). */
export type ImportEvent = Record<string, unknown>;

export interface Converted {
  event?: ImportEvent;
  /** Why it cannot be sent (counted as refused). */
  error?: string;
}

/** Fields of a stored event that the collector fills in itself. */
const COLLECTOR_FIELDS = new Set([
  'received_at',
  'actor',
  'country',
  'city',
  'latitude',
  'longitude',
  'asn',
  'isp',
  'browser',
  'browser_version',
  'os',
  'os_version',
  'device_type',
]);

/** Types only the collector writes (POST /v1/events refuses them). */
export const COLLECTOR_TYPES = new Set(['lockout', 'unlock', 'detection', 'admin']);

/** A JSON value (array item, NDJSON line) → event; {} when it is to be skipped. */
export function fromJsonValue(value: unknown, where: string): Converted {
  if (value === undefined) return { error: `${where}: not JSON` };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: `${where}: not an event object` };
  const src = value as Record<string, unknown>;
  if (typeof src.type === 'string' && COLLECTOR_TYPES.has(src.type)) return {};
  const event: ImportEvent = {};
  for (const [k, v] of Object.entries(src)) {
    if (v === null || COLLECTOR_FIELDS.has(k)) continue;
    event[k] = v;
  }
  return { event };
}

/** A row of the collector's CSV export → event. */
export function fromCsvRecord(rec: Record<string, string>, where: string): Converted {
  if (rec.type && COLLECTOR_TYPES.has(rec.type)) return {};
  const event: ImportEvent = {};
  for (const [k, raw] of Object.entries(rec)) {
    if (raw === '' || raw === undefined || COLLECTOR_FIELDS.has(k)) continue;
    // The export puts a ' before text that a spreadsheet would run as a formula: take it off.
    const v = readCell(raw);
    if (k === 'attributes') {
      try {
        event.attributes = JSON.parse(v);
      } catch {
        return { error: `${where}: attributes is not JSON` };
      }
    } else event[k] = v;
  }
  if (!event.user) return { error: `${where}: no user column (is this an Authwatch CSV export?)` };
  return { event };
}
