// The lockout and session policy: GET / PUT /v1/policy.
import { Type, type Static } from '@sinclair/typebox';

export const ESCALATIONS = ['none', 'linear', 'multiple'] as const;
export type Escalation = (typeof ESCALATIONS)[number];

export const PolicySchema = Type.Object(
  {
    max_failed_attempts: Type.Integer({ minimum: 1, maximum: 1000, description: 'Failures allowed in the window; the next one locks.' }),
    window_seconds: Type.Integer({ minimum: 1, maximum: 30 * 86400, description: 'Sliding window for counting failures.' }),
    lock_seconds: Type.Integer({ minimum: 1, maximum: 365 * 86400, description: 'Duration of the first temporary lock.' }),
    escalation: Type.Union(
      ESCALATIONS.map((e) => Type.Literal(e)),
      { description: 'none: always lock_seconds; linear: lock_seconds × (n+1); multiple: lock_seconds × 2^n, n = earlier locks of the key.' },
    ),
    max_lock_seconds: Type.Integer({ minimum: 1, maximum: 365 * 86400, description: 'Cap for escalated locks.' }),
    permanent_after: Type.Union([Type.Integer({ minimum: 0, maximum: 1000 }), Type.Null()], {
      description: 'After this many locks of a key the next lock is permanent (locked_until null); null = never, 0 = always.',
    }),
    scope: Type.Union([Type.Literal('user'), Type.Literal('user_ip')], { description: 'What a failed-attempt lock applies to.' }),
    ip_max_failed_attempts: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Failures from one IP (any user) before the IP is blocked.' }),
    idle_timeout_seconds: Type.Integer({ minimum: 1, maximum: 365 * 86400, description: 'Sessions without activity for this long end with idle_timeout.' }),
    single_session: Type.Boolean({ description: "A new login ends the user's other active sessions (new_login)." }),
    session_ip_binding: Type.Boolean({ description: 'An access from another IP ends the session (ip_conflict).' }),
    user_case_sensitive: Type.Boolean({
      description: 'false (default): "Eve" and "eve" are one account for counting and locks. Names are always compared in Unicode NFC.',
    }),
    ipv6_prefix: Type.Integer({
      minimum: 32,
      maximum: 128,
      description: 'IPv6 clients are counted and blocked per prefix of this length (default 64: one customer network), so rotating addresses inside it does not evade a block.',
    }),
    attempt_ttl_seconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      description: 'An attempt reserved by POST /v1/check {"attempt": true} and not settled by an event within this time counts as a failure.',
    }),
  },
  { additionalProperties: false, $id: 'Policy' },
);
export type Policy = Static<typeof PolicySchema>;
