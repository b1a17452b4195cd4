// Express middleware over a GuardClient (AuthwatchClient is one). Only types come from express: it
// is an optional peer dependency.

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isIP } from 'node:net';
import type { AttributeValue, CheckResult, GuardClient, Outcome } from './types';

/** What the login route may put in res.locals.authwatch to state its outcome explicitly. */
export interface LoginOutcome {
  outcome: Outcome;
  /** snake_case code, e.g. invalid_password, unknown_user, mfa_required */
  reason?: string;
  /** The new session's id (raw; the collector stores only a keyed hash). */
  sessionId?: string;
  userId?: string;
  email?: string;
  /** Overrides the user name getUser() returned (e.g. the canonical spelling). */
  user?: string;
  attributes?: Record<string, AttributeValue>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      authwatch?: LoginOutcome;
    }
  }
}

type Awaitable<T> = T | Promise<T>;

export interface GuardLoginOptions {
  /** The user name the request tries to log in as (from the body, usually). */
  getUser: (req: Request) => Awaitable<string | undefined | null>;
  /** Client address; default req.ip (set express "trust proxy" behind a proxy). */
  getIp?: (req: Request) => string | undefined;
  /** Device label reported with the event (e.g. a device cookie). */
  getDevice?: (req: Request) => string | undefined;
  /** Reported `entry` (how the user logged in). Default 'password'. */
  entry?: string;
  /** Reported `service`; default the client's. */
  service?: string;
  /**
   * Outcome from the status code when the route did not set res.locals.authwatch. Default: 2xx/3xx
   * success, 401/403 failure (invalid_credentials), anything else not reported.
   */
  classify?: (status: number) => { outcome: Outcome; reason?: string } | undefined;
  /** Answer for a locked user or a refused attempt; default 429 JSON with Retry-After. */
  onLocked?: (req: Request, res: Response, result: CheckResult) => void;
}

export interface EnforceSessionsOptions {
  /** The raw session id of the request, or undefined when it has none. */
  getSessionId: (req: Request) => string | undefined;
  /** Clear the application's own session (cookie, store entry) when the collector ended it. */
  onRevoked?: (req: Request, res: Response, sessionId: string) => Awaitable<void>;
}

function defaultClassify(status: number): { outcome: Outcome; reason?: string } | undefined {
  if (status >= 200 && status < 400) return { outcome: 'success' };
  if (status === 401 || status === 403) return { outcome: 'failure', reason: 'invalid_credentials' };
  return undefined;
}

function lockedResponse(_req: Request, res: Response, result: CheckResult): void {
  if (typeof result.retryAfter === 'number') res.set('Retry-After', String(Math.max(1, Math.ceil(result.retryAfter))));
  res.status(429).json({
    error: 'too_many_attempts',
    reason: result.reason,
    retry_after: result.retryAfter ?? null,
  });
}

/**
 * Put in front of the login handler. Reserves one attempt with the collector before the password is
 * checked (at most the policy's number of attempts get through, however many arrive at once) and
 * reports the route's outcome, with the attempt's id, directly once the response is sent.
 */
export function guardLogin(client: GuardClient, options: GuardLoginOptions): RequestHandler {
  const classify = options.classify ?? defaultClassify;
  const onLocked = options.onLocked ?? lockedResponse;
  const entry = options.entry ?? 'password';
  return async (req: Request, res: Response, next: NextFunction) => {
    let user: string | undefined | null;
    try {
      user = await options.getUser(req);
    } catch (err) {
      next(err);
      return;
    }
    // No user name: the route answers its own 400; there is nothing to check or attribute.
    if (!user || typeof user !== 'string') {
      next();
      return;
    }
    const ip = options.getIp ? options.getIp(req) : req.ip;
    const base = {
      type: 'login' as const,
      user,
      ip: ip || undefined,
      user_agent: req.get('user-agent'),
      device: options.getDevice?.(req),
      service: options.service,
      entry,
    };
    const decision = await client.beginAttempt(user, ip);
    if (!decision.allowed) {
      // Stored for the record; the collector does not count refusals it made itself.
      client.report(dropUndefined({ ...base, ip: validIp(ip), outcome: 'failure', reason: decision.reason ?? 'locked' }));
      onLocked(req, res, decision);
      return;
    }
    res.on('finish', () => {
      const explicit = res.locals.authwatch;
      const verdict = explicit ?? classify(res.statusCode);
      const event = dropUndefined({
        ...base,
        ip: validIp(ip),
        user: explicit?.user ?? user,
        outcome: verdict?.outcome,
        reason: verdict?.reason,
        session_id: explicit?.sessionId,
        user_id: explicit?.userId,
        email: explicit?.email,
        attributes: explicit?.attributes,
        attempt_id: decision.attemptId,
      });
      // No verdict (a 5xx, a 400 for a malformed request): the reservation lapses and counts as a
      // failure after its TTL, so crashing the login handler on purpose buys nothing.
      if (!verdict) return;
      if (decision.attemptId) void client.reportNow(event);
      else client.report(event);
    });
    next();
  };
}

/** The address when it is one the collector accepts (invalid ones are left out, never fatal). */
function validIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  return isIP(ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip) ? ip : undefined;
}

/**
 * Reads one cookie from the Cookie header (no cookie-parser needed):
 * `enforceSessions({ getSessionId: (req) => cookieValue(req, 'sid') })`.
 */
export function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/**
 * Put in front of authenticated routes. A session the collector reports as ended (by an admin, a
 * newer login, an IP conflict) is refused with 401 after onRevoked cleared it.
 */
export function enforceSessions(client: GuardClient, options: EnforceSessionsOptions): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const id = options.getSessionId(req);
    if (!id) {
      next();
      return;
    }
    try {
      if (!(await client.isSessionEnded(id))) {
        next();
        return;
      }
      await options.onRevoked?.(req, res, id);
      if (!res.headersSent) res.status(401).json({ error: 'session_ended' });
    } catch (err) {
      next(err);
    }
  };
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}
