// Ingest validation: the event schema of the wire contract (@authwatch/wire) compiled for the hot
// path, plus what a schema cannot say (secret-looking keys, clock skew, unstorable text, address
// syntax) with field-specific messages. Maps a request event onto a StoredEvent.
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  AttributesSchema,
  IngestEventSchema,
  INGEST_TYPES,
  MAX_ATTRIBUTES,
  MAX_BATCH_EVENTS,
  MAX_BODY_BYTES,
  SYSTEM_TYPES,
  type IngestEvent,
} from '@authwatch/wire';
import { newEventId } from './ids';
import { blankEvent, type StoredEvent } from './stored-event';
import { canonicalIp } from './normalize';

export { MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_ATTRIBUTES, AttributesSchema, IngestEventSchema, type IngestEvent };

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// TypeBox checks 'format' through its registry; register RFC 3339 before compiling.
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => RFC3339.test(v) && !Number.isNaN(Date.parse(v)));
const compiled = TypeCompiler.Compile(IngestEventSchema);

/** Keys Authwatch refuses anywhere in an event: it must never store a credential. */
const SECRET_KEY = /pass(word|wd)?|pwd|secret|token|api[-_]?key|credential|private[-_]?key/i;

export function looksSecret(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Earliest event time accepted (2000-01-01T00:00:00Z). */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
/** Default allowance for application clocks running ahead of the collector's. */
export const DEFAULT_MAX_FUTURE_MS = 300_000;

/** Why an event time is refused, or null. */
export function timeProblem(time: string | number | undefined, now: number, maxFutureMs: number): string | null {
  if (time === undefined) return null;
  const t = typeof time === 'number' ? time : Date.parse(time);
  if (Number.isNaN(t)) return 'must be an RFC 3339 timestamp or epoch milliseconds';
  if (typeof time === 'number' && time < 1e11) return `${time} looks like epoch seconds; send epoch milliseconds (× 1000) or RFC 3339`;
  if (t < MIN_EVENT_TIME) return 'is before 2000-01-01; send the time the event happened';
  if (t > now + maxFutureMs) {
    return `is ${Math.round((t - now) / 1000)} s ahead of the collector's clock; at most ${Math.round(maxFutureMs / 1000)} s of clock skew is accepted`;
  }
  return null;
}

// PostgreSQL text cannot hold U+0000 and UTF-8 cannot hold a lone surrogate: refuse both at the
// schema so every store sees the same input (and the client gets a 400, never a store error).
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function unstorableText(v: string): boolean {
  return UNSTORABLE.test(v);
}

/** The path of the first string (field, attribute key or value) no store can keep, or null. */
function unstorablePath(obj: Record<string, unknown>): string | null {
  for (const key in obj) {
    const v = obj[key];
    if (typeof v === 'string' && UNSTORABLE.test(v)) return key;
    if (key === 'attributes' && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const ak in v as Record<string, unknown>) {
        if (UNSTORABLE.test(ak)) return `attributes.${JSON.stringify(ak.replace(UNSTORABLE, '\ufffd')).slice(1, -1)}`;
        const av = (v as Record<string, unknown>)[ak];
        if (typeof av === 'string' && UNSTORABLE.test(av)) return `attributes.${ak}`;
      }
    }
  }
  return null;
}

const UNSTORABLE_MESSAGE = 'contains U+0000 or an unpaired UTF-16 surrogate, which cannot be stored';

export interface ValidationDetail {
  index: number;
  path: string;
  message: string;
}

const MAX_DETAILS = 50;

function pathOf(p: string): string {
  return p.replace(/^\//, '').replace(/\//g, '.');
}

function secretMessage(where: string): string {
  return `${where} looks like a password, secret or token; Authwatch never stores credentials — remove it`;
}

/** Clear, field-specific messages for what a client gets wrong most. */
function describe(event: unknown, index: number, opts: ValidateOptions): ValidationDetail[] {
  const out: ValidationDetail[] = [];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return [{ index, path: '', message: 'each event must be a JSON object' }];
  }
  const obj = event as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (looksSecret(key)) out.push({ index, path: key, message: secretMessage(`field "${key}"`) });
    else if (!(key in IngestEventSchema.properties)) out.push({ index, path: key, message: `unknown field "${key}"; put extra data in "attributes"` });
  }
  const attrs = obj.attributes;
  if (attrs && typeof attrs === 'object' && !Array.isArray(attrs)) {
    for (const key of Object.keys(attrs)) {
      if (looksSecret(key)) out.push({ index, path: `attributes.${key}`, message: secretMessage(`attribute "${key}"`) });
    }
  }
  if (typeof obj.type === 'string' && (SYSTEM_TYPES as readonly string[]).includes(obj.type)) {
    out.push({ index, path: 'type', message: `type "${obj.type}" is written by the collector only; send one of ${INGEST_TYPES.join(', ')}` });
  } else if (obj.type !== undefined && !(INGEST_TYPES as readonly unknown[]).includes(obj.type)) {
    out.push({ index, path: 'type', message: `unknown event type ${JSON.stringify(obj.type)}; expected one of ${INGEST_TYPES.join(', ')}` });
  }
  const seen = new Set(out.map((d) => d.path));
  for (const e of compiled.Errors(event)) {
    const path = pathOf(e.path);
    if (seen.has(path) || [...seen].some((s) => path.startsWith(s + '.'))) continue;
    seen.add(path);
    let message = e.message;
    if (path === 'user' && obj.user === undefined) message = '"user" is required';
    else if (path === 'type' && obj.type === undefined) message = `"type" is required (one of ${INGEST_TYPES.join(', ')})`;
    else if (path === 'time') message = 'must be an RFC 3339 timestamp or epoch milliseconds';
    else if (path === 'reason') message = 'must be a snake_case code such as invalid_password (≤ 64 chars)';
    else if (path === 'outcome') message = 'must be "success" or "failure"';
    else if (path === 'attributes') message = `must be a flat object of at most ${MAX_ATTRIBUTES} string/number/boolean values`;
    else if (path.startsWith('attributes.')) message = 'attribute values must be a string (≤ 1024 chars), number or boolean';
    out.push({ index, path, message });
  }
  if (typeof obj.ip === 'string' && !canonicalIp(obj.ip) && !seen.has('ip')) {
    out.push({ index, path: 'ip', message: `"${obj.ip.slice(0, 64).replace(UNSTORABLE, '\ufffd')}" is not a valid IPv4 or IPv6 address` });
    seen.add('ip');
  }
  const bad = unstorablePath(obj);
  if (bad && !seen.has(bad)) {
    out.push({ index, path: bad, message: UNSTORABLE_MESSAGE });
    seen.add(bad);
  }
  if (!seen.has('time') && (typeof obj.time === 'string' || typeof obj.time === 'number')) {
    const problem = timeProblem(obj.time, opts.now, opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS);
    if (problem) out.push({ index, path: 'time', message: problem });
  }
  return out;
}

export interface ValidateOptions {
  /** Receive time (epoch ms), also the default event time. */
  now: number;
  /** Keyed hash of a raw session id. */
  hashSessionId(raw: string): string;
  /** How far ahead of `now` an event time may be (ms); default 5 minutes. */
  maxFutureMs?: number;
}

export type BatchResult = { ok: true; events: StoredEvent[] } | { ok: false; error: string; details: ValidationDetail[] };

function quickSecretCheck(ev: IngestEvent): boolean {
  if (!ev.attributes) return true;
  for (const k in ev.attributes) if (SECRET_KEY.test(k)) return false;
  return true;
}

function toStored(ev: IngestEvent, opts: ValidateOptions): StoredEvent | null {
  if (timeProblem(ev.time, opts.now, opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS)) return null;
  const time = ev.time === undefined ? opts.now : typeof ev.time === 'number' ? ev.time : Date.parse(ev.time);
  const ip = ev.ip == null ? null : canonicalIp(ev.ip);
  if (ev.ip != null && ip === null) return null;
  if (unstorablePath(ev as unknown as Record<string, unknown>)) return null;
  const stored = blankEvent({
    id: ev.id ?? newEventId(opts.now),
    time,
    received_at: opts.now,
    type: ev.type,
    user: ev.user,
    outcome: ev.outcome ?? null,
    reason: ev.reason ?? null,
    user_id: ev.user_id ?? null,
    email: ev.email ?? null,
    session_id: ev.session_id != null ? opts.hashSessionId(ev.session_id) : null,
    ip,
    user_agent: ev.user_agent ?? null,
    device: ev.device ?? null,
    app_version: ev.app_version ?? null,
    service: ev.service ?? null,
    entry: ev.entry ?? null,
    attributes: ev.attributes ?? null,
  });
  if (ev.attempt_id !== undefined) stored.attempt_id = ev.attempt_id;
  return stored;
}

/**
 * Validates one event or an array of events. All-or-nothing: any invalid event refuses the batch,
 * with up to 50 details naming the batch index and field path.
 */
export function validateBatch(body: unknown, opts: ValidateOptions): BatchResult {
  const steps = validateSteps(body, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Events checked between two points where validateBatchSliced yields (about a millisecond). */
const VALIDATE_STEP = 200;

/** validateBatch with a turn of the event loop every VALIDATE_STEP events (checks are answered meanwhile). */
export async function validateBatchSliced(body: unknown, opts: ValidateOptions): Promise<BatchResult> {
  const steps = validateSteps(body, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function* validateSteps(body: unknown, opts: ValidateOptions): Generator<void, BatchResult> {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) return { ok: false, error: 'empty batch: send one event object or a non-empty array', details: [] };
  if (list.length > MAX_BATCH_EVENTS) {
    return { ok: false, error: `batch of ${list.length} events is over the limit of ${MAX_BATCH_EVENTS}`, details: [] };
  }
  const events: StoredEvent[] = new Array(list.length);
  let details: ValidationDetail[] | null = null;
  for (let i = 0; i < list.length; i++) {
    if (i > 0 && i % VALIDATE_STEP === 0) yield;
    const ev = list[i] as unknown;
    const stored = compiled.Check(ev) && quickSecretCheck(ev) ? toStored(ev, opts) : null;
    if (stored) {
      events[i] = stored;
      continue;
    }
    details ??= [];
    if (details.length < MAX_DETAILS) details.push(...describe(ev, i, opts));
  }
  if (details) {
    const n = new Set(details.map((d) => d.index)).size;
    const first = details[0];
    const head = first ? `event ${first.index}: ${first.path ? first.path + ': ' : ''}${first.message}` : 'invalid event';
    return { ok: false, error: `invalid batch, nothing stored (${n}${details.length >= MAX_DETAILS ? '+' : ''} bad event${n === 1 ? '' : 's'}; first: ${head})`, details: details.slice(0, MAX_DETAILS) };
  }
  return { ok: true, events };
}
