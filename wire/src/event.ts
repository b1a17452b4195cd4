// Events on the wire: what an application sends (POST /v1/events) and what the collector keeps and
// returns (GET /v1/events, exports, webhooks). One field list; the collector's validation and the
// client's, the plugin's and the OpenAPI document's types all come from these schemas.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Kinds an application may send. */
export const INGEST_TYPES = ['login', 'logout', 'session_end', 'mfa', 'password_reset', 'password_change', 'access'] as const;
/** Kinds only the collector itself writes (lockout engine, detections, admin audit). */
export const SYSTEM_TYPES = ['lockout', 'unlock', 'detection', 'admin'] as const;
export const EVENT_TYPES = [...INGEST_TYPES, ...SYSTEM_TYPES] as const;
export const OUTCOMES = ['success', 'failure'] as const;

export type IngestType = (typeof INGEST_TYPES)[number];
export type SystemType = (typeof SYSTEM_TYPES)[number];
export type EventType = IngestType | SystemType;
export type Outcome = (typeof OUTCOMES)[number];
export type AttributeValue = string | number | boolean;

/** Most events in one POST /v1/events. */
export const MAX_BATCH_EVENTS = 10_000;
/** Largest request body the collector reads. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Most keys in an event's attributes. */
export const MAX_ATTRIBUTES = 32;

const literals = <T extends readonly string[]>(values: T, options?: object) => Type.Union(values.map((v) => Type.Literal(v as T[number])), options);
const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));
const text = (maxLength: number, description: string) => nullable(Type.String({ maxLength, description }));

export const AttributesSchema = Type.Record(
  Type.String({ minLength: 1, maxLength: 64 }),
  Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]),
  {
    maxProperties: MAX_ATTRIBUTES,
    description: `Flat map of string / number / boolean values, at most ${MAX_ATTRIBUTES} keys. Keys that look like a password, secret, token, API key or credential are refused.`,
  },
);

/** One event as an application sends it: the body of POST /v1/events (or an array of them). */
export const IngestEventSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Idempotency key: an id already stored is counted as a duplicate, not stored again.' })),
    time: Type.Optional(
      Type.Union([Type.String({ format: 'date-time' }), Type.Integer({ minimum: 0, maximum: 253402300799999 })], {
        description:
          "RFC 3339 timestamp or epoch milliseconds; default: when the collector received it. Shown, stored and queried as sent, but never trusted for enforcement: lockout windows and locks run on the collector's clock. Refused: more than the allowed clock skew (default 300 s) ahead of the collector, a number below 10^11 (epoch seconds, not milliseconds), anything before 2000-01-01.",
      }),
    ),
    type: literals(INGEST_TYPES, { description: `Event kind. ${SYSTEM_TYPES.join(', ')} are written by the collector only.` }),
    outcome: nullable(literals(OUTCOMES)),
    reason: nullable(
      Type.String({
        maxLength: 64,
        pattern: '^[a-z0-9]+(_[a-z0-9]+)*$',
        description: 'snake_case result code (invalid_password, idle_timeout, …); open-ended.',
      }),
    ),
    user: Type.String({ minLength: 1, maxLength: 256, description: 'User name (required).' }),
    user_id: text(256, 'Stable user id.'),
    email: text(320, 'E-mail address.'),
    session_id: text(512, "The application's session id; stored only as a keyed hash."),
    ip: text(64, 'Client IPv4 or IPv6 address.'),
    user_agent: text(1024, 'User-Agent header.'),
    device: text(256, 'Device name / id as the application knows it.'),
    app_version: text(64, 'Client application version.'),
    service: text(128, 'Application or service the event belongs to.'),
    entry: text(128, 'Entry method (web, mobile, api, sshd…).'),
    attributes: nullable(AttributesSchema),
    attempt_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'The attempt_id POST /v1/check {"attempt": true} returned: this login outcome settles that reservation.',
      }),
    ),
  },
  { additionalProperties: false, $id: 'Event' },
);
export type IngestEvent = Static<typeof IngestEventSchema>;

const S = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});
const N = (description?: string) => Type.Union([Type.Number(), Type.Null()], description ? { description } : {});

/** An event after the collector accepted it: what the store keeps and the query API returns. */
export const StoredEventSchema = Type.Object(
  {
    id: Type.String({ description: 'The client idempotency key, or a collector-made id when the client sent none.' }),
    time: Type.Integer({ description: 'When it happened, epoch ms.' }),
    received_at: Type.Integer({ description: 'When the collector accepted it, epoch ms.' }),
    type: literals(EVENT_TYPES),
    outcome: Type.Union([literals(OUTCOMES), Type.Null()]),
    reason: S('snake_case code: invalid_password, idle_timeout, brute_force, …'),
    user: Type.String(),
    user_id: S(),
    email: S(),
    session_id: S('Keyed hash (hex) of the session id; the raw id is never stored.'),
    ip: S(),
    user_agent: S(),
    device: S(),
    app_version: S(),
    service: S(),
    entry: S(),
    attributes: Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])), Type.Null()]),
    actor: S('Who did it, for system events caused by an API call: the API key name (and Grafana user).'),
    country: S('ISO 3166-1 alpha-2, or "private" / "reserved" for non-public addresses; null when unknown.'),
    city: S(),
    latitude: N(),
    longitude: N(),
    asn: N(),
    isp: S(),
    browser: S(),
    browser_version: S(),
    os: S(),
    os_version: S(),
    device_type: S('desktop | mobile | tablet | bot | other'),
  },
  { $id: 'StoredEvent' },
);
export type StoredEvent = Static<typeof StoredEventSchema>;

/** GET /v1/events: one page, newest first by default. */
export const EventsPageSchema = Type.Object({
  events: Type.Array(StoredEventSchema),
  total: Type.Integer(),
  next_cursor: S('Pass as cursor for the next page; null on the last page.'),
});
export type EventsPage = Static<typeof EventsPageSchema>;

/** POST /v1/events answer (202): how many were stored and how many were already known. */
export const AcceptedSchema = Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() });
export type Accepted = Static<typeof AcceptedSchema>;
