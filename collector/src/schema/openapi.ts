// OpenAPI 3.1 document for GET /v1/openapi.json. Request/record schemas come from the same TypeBox
// objects the collector validates with, so the document cannot drift from the code.
import { ERRORS, type ErrorCode } from '../http/errors';
import { Type, type TSchema } from '@sinclair/typebox';
import { IngestEventSchema, MAX_BATCH_EVENTS } from './event';
import { PolicySchema } from './policy';
import { reasonTableMarkdown } from './reasons';
import { INGEST_TYPES, SYSTEM_TYPES } from './stored-event';

const N = (description?: string) => Type.Union([Type.Number(), Type.Null()], description ? { description } : {});
const S = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});

export const StoredEventSchema = Type.Object(
  {
    id: Type.String(),
    time: Type.Integer({ description: 'epoch ms' }),
    received_at: Type.Integer({ description: 'epoch ms' }),
    type: Type.Union([...INGEST_TYPES, ...SYSTEM_TYPES].map((t) => Type.Literal(t))),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Null()]),
    reason: S(),
    user: Type.String(),
    user_id: S(),
    email: S(),
    session_id: S('keyed hash (hex) of the session id'),
    ip: S(),
    user_agent: S(),
    device: S(),
    app_version: S(),
    service: S(),
    entry: S(),
    attributes: Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])), Type.Null()]),
    actor: S('API key name (and Grafana user) for events caused by an admin action'),
    country: S(),
    city: S(),
    latitude: N(),
    longitude: N(),
    asn: N(),
    isp: S(),
    browser: S(),
    browser_version: S(),
    os: S(),
    os_version: S(),
    device_type: S(),
  },
  { $id: 'StoredEvent' },
);

const Session = Type.Object({
  id: Type.String({ description: 'keyed hash (hex)' }),
  user: Type.String(),
  user_id: S(),
  ip: S(),
  country: S(),
  city: S(),
  isp: S(),
  asn: N(),
  browser: S(),
  os: S(),
  device: S(),
  device_type: S(),
  service: S(),
  started_at: Type.Integer(),
  last_seen_at: Type.Integer(),
  ended_at: N(),
  end_reason: S(),
  state: Type.Union([Type.Literal('active'), Type.Literal('ended')]),
});

const Lockout = Type.Object({
  id: Type.Integer(),
  user: S(),
  scope: Type.Union([Type.Literal('user'), Type.Literal('user_ip'), Type.Literal('ip')]),
  ip: S(),
  failures: Type.Integer(),
  locked_at: Type.Integer(),
  locked_until: N('null = until an admin unlocks'),
  reason: Type.String(),
  state: Type.Union([Type.Literal('locked'), Type.Literal('expired'), Type.Literal('unlocked')]),
  unlocked_at: N(),
  unlocked_by: S(),
});

const ErrorSchema = Type.Object({
  error: Type.String({ description: 'What is wrong, for a person.' }),
  code: Type.Union(
    (Object.keys(ERRORS) as ErrorCode[]).map((c) => Type.Literal(c, { description: ERRORS[c].what })),
    { description: 'Stable error code, for a program (one registry: HTTP status → code).' },
  ),
  details: Type.Optional(Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), path: Type.String(), message: Type.String() }))),
});

const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errors = {
  '400': json(ref('Error'), 'Bad request: a malformed body or value, an unknown query parameter or enumerated value (the message lists the accepted ones), a time or number out of range; details name the path'),
  '401': json(ref('Error'), 'Missing or invalid API key'),
  '403': json(
    ref('Error'),
    'The key lacks the role; a filter, group_by or value list on a detail hidden from this key (AUTHWATCH_HIDE_DETAILS); or, without API keys, a request not addressed to a loopback Host or from a foreign Origin',
  ),
  '415': json(ref('Error'), 'Every POST/PUT must declare Content-Type: application/json, also without a body'),
};
const q = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', description, schema });
const filterParams = [
  q('from', 'epoch ms or RFC 3339 (inclusive)'),
  q('to', 'epoch ms or RFC 3339 (exclusive)'),
  ...['user', 'type', 'outcome', 'reason', 'ip', 'service', 'country'].map((f) => q(f, `${f}; repeat or comma-separate for several`)),
  q('q', 'free text over user, email, ip, reason, user_agent, service'),
];
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const role = (r: string) => ({ 'x-authwatch-role': r, security: [{ bearer: [] }] });

export function buildOpenApi(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Authwatch collector',
      version: '1',
      description: `Login activity for SRE teams. Reason codes are open-ended snake_case; usual ones:\n\n${reasonTableMarkdown()}`,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (roles ingest, read, admin)' } },
      schemas: { Event: IngestEventSchema, StoredEvent: StoredEventSchema, Policy: PolicySchema, Session, Lockout, Error: ErrorSchema },
    },
    paths: {
      '/v1/events': {
        post: {
          summary: `Ingest one event or a batch (≤ ${MAX_BATCH_EVENTS} events, ≤ 5 MB); atomic, idempotent by id`,
          ...role('ingest'),
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('Event'), { type: 'array', items: ref('Event'), maxItems: MAX_BATCH_EVENTS }] } } } },
          responses: {
            '202': json(Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() }), 'Durable'),
            ...errors,
            '413': json(ref('Error'), 'Body too large'),
            '415': json(ref('Error'), 'Not JSON'),
          },
        },
        get: {
          summary: 'Filtered event log, newest first, keyset pagination',
          ...role('read'),
          parameters: [...filterParams, q('limit', 'default 100, max 1000', { type: 'integer' }), q('cursor', 'next_cursor of the previous page'), q('order', 'desc (default) or asc')],
          responses: { '200': json(Type.Object({ events: Type.Array(ref('StoredEvent') as unknown as TSchema), total: Type.Integer(), next_cursor: S() })), ...errors },
        },
      },
      '/v1/logs': {
        post: {
          summary: 'OTLP/HTTP logs in: auth log records become events (same validation as POST /v1/events); other records are skipped and counted in partialSuccess',
          ...role('ingest'),
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'ExportLogsServiceRequest (OTLP JSON)' } }, 'application/x-protobuf': { schema: { type: 'string', format: 'binary', description: 'ExportLogsServiceRequest (OTLP protobuf)' } } } },
          responses: { '200': { description: 'ExportLogsServiceResponse, in the request encoding (partialSuccess when records were skipped)' }, ...errors, '413': json(ref('Error'), 'Body too large'), '415': json(ref('Error'), 'Not OTLP JSON or protobuf') },
        },
      },
      '/v1/events.csv': {
        get: { summary: 'Filtered events as CSV (streamed; formula cells neutralised)', ...role('read'), parameters: [...filterParams, q('limit', 'optional row cap', { type: 'integer' })], responses: { '200': { description: 'text/csv' }, ...errors } },
      },
      '/v1/check': {
        post: {
          summary: 'May this user log in from this IP now? With "attempt": true, reserve one attempt',
          description:
            'Without attempt: reads the locks in force. With "attempt": true: atomically reserves one login attempt, allowed only while recorded failures plus open reservations stay within the policy (max_failed_attempts 5 → at most 6 attempts reach the password check, however many arrive at once and on however many replicas). Send the login outcome as an event with the returned attempt_id; a reservation not settled within attempt_ttl_seconds counts as a failure. User names are compared in Unicode NFC and, unless user_case_sensitive, case-insensitively; addresses in one canonical form, IPv6 by ipv6_prefix.',
          ...role('ingest'),
          requestBody: {
            content: {
              'application/json': {
                schema: Type.Object(
                  {
                    user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
                    ip: Type.Optional(Type.String({ description: 'IPv4 or IPv6 address' })),
                    attempt: Type.Optional(Type.Boolean()),
                    attempt_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', description: 'with attempt: the id to reserve under (chosen by the application, so a late outcome still settles it)' })),
                  },
                  { additionalProperties: false },
                ),
              },
            },
          },
          responses: {
            '200': json(
              Type.Union([
                Type.Object({ allowed: Type.Literal(true), attempt_id: Type.Optional(Type.String({ description: 'with "attempt": true: send it with the outcome event' })) }),
                Type.Object({
                  allowed: Type.Literal(false),
                  reason: Type.Union([Type.Literal('user_locked'), Type.Literal('user_ip_locked'), Type.Literal('ip_blocked'), Type.Literal('attempt_limit')]),
                  retry_after: N('seconds; null = until an admin unlocks'),
                }),
              ]),
            ),
            ...errors,
          },
        },
      },
      '/v1/timeseries': {
        get: {
          summary: 'Counts per aligned bucket, zero-filled (≤ 11,000 buckets)',
          ...role('read'),
          parameters: [...filterParams, q('interval_ms', 'bucket width', { type: 'integer' }), q('group_by', 'outcome | reason | service | country | type')],
          responses: { '200': json(Type.Object({ interval_ms: Type.Integer(), series: Type.Array(Type.Object({ key: Type.String(), points: Type.Array(Type.Tuple([Type.Integer(), Type.Integer()])) })) })), ...errors },
        },
      },
      '/v1/stats': {
        get: {
          summary: 'Headline numbers for a range',
          ...role('read'),
          parameters: filterParams,
          responses: { '200': json(Type.Object({ logins: Type.Integer(), failures: Type.Integer(), failure_ratio: Type.Number(), active_sessions: Type.Integer(), locked_accounts: Type.Integer(), unique_users: Type.Integer() })), ...errors },
        },
      },
      '/v1/values/{field}': {
        get: { summary: 'Distinct values (user, service, reason, country, type, ip, outcome)', ...role('read'), parameters: [pathParam('field'), q('from', ''), q('to', ''), q('q', 'substring'), q('limit', 'default 100')], responses: { '200': json(Type.Object({ values: Type.Array(Type.String()) })), ...errors } },
      },
      '/v1/sessions': {
        get: { summary: 'Sessions', ...role('read'), parameters: [q('state', 'active (default) | ended | all'), q('user', ''), q('from', ''), q('to', ''), q('limit', 'default 100, max 50,000')], responses: { '200': json(Type.Object({ sessions: Type.Array(ref('Session') as unknown as TSchema) })), ...errors } },
      },
      '/v1/sessions/{id}': {
        get: { summary: 'Session state by raw id or listed hash', ...role('ingest or read'), parameters: [pathParam('id')], responses: { '200': json(Type.Object({ id: Type.String(), state: Type.String(), end_reason: S() })), '404': json(ref('Error'), 'Unknown') } },
      },
      '/v1/sessions/{id}/terminate': {
        post: { summary: 'End a session (terminated_by_admin); audited', ...role('admin'), parameters: [pathParam('id')], responses: { '200': json(Type.Object({ id: Type.String(), state: Type.Literal('ended'), end_reason: Type.Literal('terminated_by_admin') })), '404': json(ref('Error'), 'Unknown'), '409': json(ref('Error'), 'Already ended') } },
      },
      '/v1/users/{user}/sessions/terminate': {
        post: { summary: "End all of a user's sessions; audited", ...role('admin'), parameters: [pathParam('user')], responses: { '200': json(Type.Object({ terminated: Type.Integer() })) } },
      },
      '/v1/lockouts': {
        get: { summary: 'Locks', ...role('read'), parameters: [q('state', 'locked (default) | all'), q('user', '')], responses: { '200': json(Type.Object({ lockouts: Type.Array(ref('Lockout') as unknown as TSchema) })) } },
      },
      '/v1/users/{user}/unlock': { post: { summary: "Lift a user's locks; audited", ...role('admin'), parameters: [pathParam('user')], responses: { '200': json(Type.Object({ unlocked: Type.Integer() })) } } },
      '/v1/ips/{ip}/unlock': { post: { summary: "Lift the locks of an address or IPv6 prefix (URL-encoded CIDR); audited", ...role('admin'), parameters: [pathParam('ip')], responses: { '200': json(Type.Object({ unlocked: Type.Integer() })) } } },
      '/v1/blocklist': {
        get: {
          summary: 'IP and IPv6-prefix blocks in force, for firewalls and proxies (docs/blocklist.md); names every blocked address',
          ...role('read'),
          parameters: [q('format', 'plain (or text) | json | nginx | nftables; default json when Accept asks for application/json, else plain')],
          responses: {
            '200': {
              description: 'plain: one CIDR per line; nginx: deny lines; nftables: a file for nft -f (all text/plain); json below',
              content: {
                'text/plain': { schema: { type: 'string' } },
                'application/json': {
                  schema: Type.Object({
                    generated_at: Type.Integer(),
                    count: Type.Integer(),
                    entries: Type.Array(Type.Object({ cidr: Type.String(), expires_at: Type.Union([Type.Integer(), Type.Null()]), locked_at: Type.Integer() })),
                  }),
                },
              },
            },
            ...errors,
          },
        },
      },
      '/v1/policy': {
        get: { summary: 'Lockout and session policy', ...role('read'), responses: { '200': json(ref('Policy') as unknown as TSchema) } },
        put: { summary: 'Change the policy (partial bodies merge); audited', ...role('admin'), requestBody: { content: { 'application/json': { schema: ref('Policy') } } }, responses: { '200': json(ref('Policy') as unknown as TSchema), ...errors } },
      },
      '/v1/whoami': { get: { summary: "The calling key's role and name", ...role('any'), responses: { '200': json(Type.Object({ role: Type.String(), key: Type.String() })), '401': json(ref('Error')) } } },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': json(Type.Object({ status: Type.Literal('ok') })) } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain' } } } },
    },
  };
}
