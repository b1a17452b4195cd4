// POST /v1/check: may this user log in from this address now (and, with attempt, reserve a try)?
import { Type, type Static } from '@sinclair/typebox';

/** Why the collector refuses a login. */
export const DENY_REASONS = ['user_locked', 'user_ip_locked', 'ip_blocked', 'attempt_limit'] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

export const CheckRequestSchema = Type.Object(
  {
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    ip: Type.Optional(Type.String({ description: 'IPv4 or IPv6 address' })),
    attempt: Type.Optional(Type.Boolean()),
    attempt_id: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', description: 'with attempt: the id to reserve under (chosen by the application, so a late outcome still settles it)' }),
    ),
  },
  { additionalProperties: false, $id: 'CheckRequest' },
);
export type CheckRequest = Static<typeof CheckRequestSchema>;

export const CheckAnswerSchema = Type.Union(
  [
    Type.Object({ allowed: Type.Literal(true), attempt_id: Type.Optional(Type.String({ description: 'with "attempt": true: send it with the outcome event' })) }),
    Type.Object({
      allowed: Type.Literal(false),
      reason: Type.Union(DENY_REASONS.map((r) => Type.Literal(r))),
      retry_after: Type.Union([Type.Number(), Type.Null()], { description: 'seconds; null = until an admin unlocks' }),
    }),
  ],
  { $id: 'CheckAnswer' },
);
export type CheckAnswer = Static<typeof CheckAnswerSchema>;
