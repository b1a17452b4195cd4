// OpenAPI 3.1 document for GET /v1/openapi.json. Request/record schemas are the wire contract's
// TypeBox objects (@authwatch/wire), the ones the collector validates with, so the document cannot
// drift from the code.
import {
  AcceptedSchema,
  CheckAnswerSchema,
  CheckRequestSchema,
  ErrorBodySchema,
  IngestEventSchema,
  LockoutSchema,
  MAX_BATCH_EVENTS,
  PolicySchema,
  SessionSchema,
  SessionStateAnswerSchema,
  StatsSchema,
  StoredEventSchema,
  TimeseriesSchema,
  ValuesSchema,
  WhoamiSchema,
} from '@authwatch/wire';
import { Type, type TSchema } from '@sinclair/typebox';
import { reasonTableMarkdown } from './reasons';

export { StoredEventSchema };

const S = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});

/** The ingest event schema with the reason-code table in the reason description (documentation only). */
function eventWithReasonTable(): object {
  const doc = JSON.parse(JSON.stringify(IngestEventSchema));
  doc.properties.reason.anyOf[0].description = 'snake_case result code; open-ended. Usual codes:\n\n' + reasonTableMarkdown();
  return doc;
}

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
      schemas: { Event: eventWithReasonTable(), StoredEvent: StoredEventSchema, Policy: PolicySchema, Session: SessionSchema, Lockout: LockoutSchema, Error: ErrorBodySchema },
    },
    paths: {
      '/v1/events': {
        post: {
          summary: `Ingest one event or a batch (≤ ${MAX_BATCH_EVENTS} events, ≤ 5 MB); atomic, idempotent by id`,
          ...role('ingest'),
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('Event'), { type: 'array', items: ref('Event'), maxItems: MAX_BATCH_EVENTS }] } } } },
          responses: {
            '202': json(AcceptedSchema, 'Durable'),
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
                schema: CheckRequestSchema,
              },
            },
          },
          responses: {
            '200': json(CheckAnswerSchema),
            ...errors,
          },
        },
      },
      '/v1/timeseries': {
        get: {
          summary: 'Counts per aligned bucket, zero-filled (≤ 11,000 buckets)',
          ...role('read'),
          parameters: [...filterParams, q('interval_ms', 'bucket width', { type: 'integer' }), q('group_by', 'outcome | reason | service | country | type')],
          responses: { '200': json(TimeseriesSchema), ...errors },
        },
      },
      '/v1/stats': {
        get: {
          summary: 'Headline numbers for a range',
          ...role('read'),
          parameters: filterParams,
          responses: { '200': json(StatsSchema), ...errors },
        },
      },
      '/v1/values/{field}': {
        get: { summary: 'Distinct values (user, service, reason, country, type, ip, outcome)', ...role('read'), parameters: [pathParam('field'), q('from', ''), q('to', ''), q('q', 'substring'), q('limit', 'default 100')], responses: { '200': json(ValuesSchema), ...errors } },
      },
      '/v1/sessions': {
        get: { summary: 'Sessions', ...role('read'), parameters: [q('state', 'active (default) | ended | all'), q('user', ''), q('from', ''), q('to', ''), q('limit', 'default 100, max 50,000')], responses: { '200': json(Type.Object({ sessions: Type.Array(ref('Session') as unknown as TSchema) })), ...errors } },
      },
      '/v1/sessions/{id}': {
        get: { summary: 'Session state by raw id or listed hash', ...role('ingest or read'), parameters: [pathParam('id')], responses: { '200': json(SessionStateAnswerSchema), '404': json(ref('Error'), 'Unknown') } },
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
      '/v1/whoami': { get: { summary: "The calling key's role and name", ...role('any'), responses: { '200': json(WhoamiSchema), '401': json(ref('Error')) } } },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': json(Type.Object({ status: Type.Literal('ok') })) } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain' } } } },
    },
  };
}
