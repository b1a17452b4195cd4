// Sessions and lockouts as GET /v1/sessions and GET /v1/lockouts return them. The collector's
// store rows are these without the derived `state`.
import { Type, type Static } from '@sinclair/typebox';

const S = (description?: string) => Type.Union([Type.String(), Type.Null()], description ? { description } : {});
const N = (description?: string) => Type.Union([Type.Number(), Type.Null()], description ? { description } : {});

export const SESSION_STATES = ['active', 'ended'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const SessionSchema = Type.Object(
  {
    id: Type.String({ description: "Keyed hash (hex) of the application's session id." }),
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
    started_at: Type.Integer({ description: 'epoch ms' }),
    last_seen_at: Type.Integer({ description: 'epoch ms' }),
    ended_at: N('epoch ms; null while active'),
    end_reason: S('logout, idle_timeout, new_login, ip_conflict, terminated_by_admin, …'),
    state: Type.Union(SESSION_STATES.map((s) => Type.Literal(s))),
  },
  { $id: 'Session' },
);
export type Session = Static<typeof SessionSchema>;

export const SessionsListSchema = Type.Object({ sessions: Type.Array(SessionSchema) });
export type SessionsList = Static<typeof SessionsListSchema>;

/** GET /v1/sessions/{id}: what an application asks before it trusts a session. */
export const SessionStateAnswerSchema = Type.Object({ id: Type.String(), state: Type.Union(SESSION_STATES.map((s) => Type.Literal(s))), end_reason: S() });
export type SessionStateAnswer = Static<typeof SessionStateAnswerSchema>;

/** What a lock applies to: a user, a user from one address, or an address (IPv6: a prefix). */
export const LOCK_SCOPES = ['user', 'user_ip', 'ip'] as const;
export type LockScope = (typeof LOCK_SCOPES)[number];
export const LOCKOUT_STATES = ['locked', 'expired', 'unlocked'] as const;
export type LockoutState = (typeof LOCKOUT_STATES)[number];

export const LockoutSchema = Type.Object(
  {
    id: Type.Integer(),
    user: S('null for scope "ip"'),
    scope: Type.Union(LOCK_SCOPES.map((s) => Type.Literal(s))),
    ip: S(),
    failures: Type.Integer(),
    locked_at: Type.Integer({ description: 'epoch ms' }),
    locked_until: N('epoch ms; null = until an admin unlocks'),
    reason: Type.String(),
    state: Type.Union(LOCKOUT_STATES.map((s) => Type.Literal(s))),
    unlocked_at: N(),
    unlocked_by: S(),
  },
  { $id: 'Lockout' },
);
export type Lockout = Static<typeof LockoutSchema>;

export const LockoutsListSchema = Type.Object({ lockouts: Type.Array(LockoutSchema) });
export type LockoutsList = Static<typeof LockoutsListSchema>;
