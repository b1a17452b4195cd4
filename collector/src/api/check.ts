// POST /v1/check: "may this user try to log in from this IP now?". Without "attempt" it reads the
// locks in force; with "attempt": true it reserves one attempt (decision/check.ts) that the login's
// outcome event settles by attempt_id. Names and addresses are keyed as the lockout counts them.
import { Router, type Response } from 'express';
import { keyRules, subjectOf } from '../schema/lock-keys';
import { canonicalIp } from '../schema/normalize';
import { unstorableText } from '../schema/event';
import { requireJson, jsonBody } from '../http/body';
import type { ApiContext } from '../http/context';
import type { FastRoute } from '../http/fast-path';
import type { CheckAnswer } from '../decision/check';
import { badRequest } from '../http/errors';

const FIELDS = new Set(['user', 'ip', 'attempt', 'attempt_id']);
const ATTEMPT_ID = /^[A-Za-z0-9_-]{16,64}$/;

function parseBody(body: unknown): { user: string | null; ip: string | null; attempt: boolean; attemptId?: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body must be {"user": "...", "ip": "...", "attempt": true|false}');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.has(k));
  if (unknown.length) throw badRequest(`unknown field ${JSON.stringify(unknown[0])}; send user, ip and attempt`, unknown.map((k) => ({ path: k, message: 'unknown field' })));
  const { user, ip, attempt, attempt_id: attemptId } = b;
  if (attemptId !== undefined && (attempt !== true || typeof attemptId !== 'string' || !ATTEMPT_ID.test(attemptId))) {
    throw badRequest('attempt_id must be 16–64 characters of A-Z a-z 0-9 _ -, sent with "attempt": true', [{ path: 'attempt_id', message: 'invalid' }]);
  }
  if (user !== undefined && user !== null) {
    if (typeof user !== 'string' || !user || user.length > 256) throw badRequest('user must be a non-empty string of at most 256 characters', [{ path: 'user', message: 'must be a non-empty string (≤ 256)' }]);
    if (unstorableText(user)) throw badRequest('user contains U+0000 or an unpaired surrogate', [{ path: 'user', message: 'contains U+0000 or an unpaired UTF-16 surrogate' }]);
  }
  if (ip !== undefined && ip !== null && (typeof ip !== 'string' || ip.length > 64 || !canonicalIp(ip))) {
    throw badRequest('ip must be a valid IPv4 or IPv6 address', [{ path: 'ip', message: 'not an IP address' }]);
  }
  if (attempt !== undefined && typeof attempt !== 'boolean') throw badRequest('attempt must be true or false', [{ path: 'attempt', message: 'must be a boolean' }]);
  if (!user && !ip) throw badRequest('send "user", "ip" or both');
  if (attempt && !user) throw badRequest('an attempt needs "user"', [{ path: 'user', message: 'required with "attempt": true' }]);
  return { user: (user as string | undefined) ?? null, ip: (ip as string | undefined) ?? null, attempt: attempt === true, attemptId: attemptId as string | undefined };
}

/** The answer to a check body (HttpError 400 when it is not one); plain checks from memory. */
export async function answerCheck(ctx: ApiContext, body: unknown): Promise<CheckAnswer> {
  const { user, ip, attempt, attemptId } = parseBody(body);
  if (attempt) return ctx.pipeline.reserveAttempt({ user: user!, ip, ...(attemptId !== undefined ? { attemptId } : {}) });
  const subject = subjectOf(user, ip, keyRules(await ctx.store.getPolicy(), ctx.config.ipTruncate));
  return ctx.locks.decide(subject, ctx.pipeline.now());
}

/** For the node:http fast path (http/fast-path.ts), which takes the plain requests first. */
export function fastCheckRoute(ctx: ApiContext): FastRoute {
  return { path: '/v1/check', access: 'ingest', maxBytes: 64 * 1024, answer: async (body) => ({ status: 200, body: await answerCheck(ctx, body) }) };
}

/**
 * What res.json sends, without its per-response work a check does not need: a SHA-1 ETag of every
 * answer (a POST answer marked no-store is never revalidated) and the charset/type negotiation.
 */
function sendJson(res: Response, body: unknown): void {
  const text = JSON.stringify(body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function checkRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.post('/v1/check', ctx.auth('ingest'), requireJson, jsonBody, async (req, res) => {
    sendJson(res, await answerCheck(ctx, req.body));
  });
  return r;
}
