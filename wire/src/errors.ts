// The body of every error answer, with a stable `code` a program can branch on.
import { Type, type Static } from '@sinclair/typebox';

/** Every error code, with its HTTP status and what it means (one registry: status → code). */
export const ERRORS = {
  AW_BAD_REQUEST: { status: 400, what: 'the request is malformed or a value is out of range' },
  AW_UNAUTHORIZED: { status: 401, what: 'no API key, or an unknown one' },
  AW_FORBIDDEN: { status: 403, what: "the key's role may not do this, or the detail is hidden from it" },
  AW_NOT_FOUND: { status: 404, what: 'no such route, session or user' },
  AW_CONFLICT: { status: 409, what: 'the state does not allow it (the session already ended)' },
  AW_PAYLOAD_TOO_LARGE: { status: 413, what: 'the body is over the size limit' },
  AW_UNSUPPORTED_MEDIA_TYPE: { status: 415, what: 'the body is not JSON (or OTLP protobuf on /v1/logs)' },
  AW_INTERNAL: { status: 500, what: 'the collector failed; the request can be retried' },
} as const;
export type ErrorCode = keyof typeof ERRORS;

const CODES = Object.keys(ERRORS) as ErrorCode[];

export const ErrorBodySchema = Type.Object(
  {
    error: Type.String({ description: 'What is wrong, for a person.' }),
    code: Type.Union(
      CODES.map((c) => Type.Literal(c, { description: ERRORS[c].what })),
      { description: 'Stable error code, for a program (one registry: HTTP status → code).' },
    ),
    details: Type.Optional(Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;
