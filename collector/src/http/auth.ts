// Authentication (Bearer API key) and role checks, plus the per-request view settings they imply:
// the actor written in audit events, hidden network details for read keys, the Grafana self view.
import type { Request, RequestHandler, Response } from 'express';
import type { KeyRing, Role } from '../auth/keys';
import { errorBody } from './errors';

export type Access = 'ingest' | 'read' | 'ingest_or_read' | 'admin' | 'any';

// admin = read + actions + policy; sending events and asking /v1/check stay with ingest keys (an
// admin key is a person's, an ingest key an application's).
const ALLOWED: Record<Access, readonly Role[]> = {
  ingest: ['ingest'],
  read: ['read', 'admin'],
  ingest_or_read: ['ingest', 'read', 'admin'],
  admin: ['admin'],
  any: ['ingest', 'read', 'admin'],
};

export interface Principal {
  role: Role;
  name: string;
}

declare module 'express-serve-static-core' {
  interface Locals {
    principal?: Principal;
  }
}

const ANONYMOUS: Principal = { role: 'admin', name: 'anonymous' };

/** The key in an `Authorization: Bearer <key>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return m ? m[1].trim() : null;
}

export const allows = (access: Access, role: Role): boolean => ALLOWED[access].includes(role);

export function authenticator(keys: KeyRing): (access: Access) => RequestHandler {
  return (access) => (req, res, next) => {
    if (keys.empty) {
      // Loopback-only mode (config refuses other hosts without keys; requestGuard checks Host/Origin).
      res.locals.principal = ANONYMOUS;
      return jsonOnStateChange(req, res, next);
    }
    const token = bearerToken(req.headers.authorization);
    if (token === null) {
      res.set('WWW-Authenticate', 'Bearer').status(401).json(errorBody(401, 'missing API key: send "Authorization: Bearer <key>"'));
      return;
    }
    const key = keys.find(token);
    if (!key) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json(errorBody(401, 'invalid API key'));
      return;
    }
    if (!allows(access, key.role)) {
      const need = access === 'ingest_or_read' ? 'ingest or read' : access;
      res.status(403).json(errorBody(403, `this endpoint needs the ${need} role; key "${key.name}" has the ${key.role} role`));
      return;
    }
    res.locals.principal = { role: key.role, name: key.name };
    jsonOnStateChange(req, res, next);
  };
}

export function principal(req: Request): Principal {
  return (req.res?.locals.principal as Principal | undefined) ?? ANONYMOUS;
}

const GRAFANA_USER = /^[^\u0000-\u001f]{1,256}$/;

function grafanaUser(req: Request): string | undefined {
  const u = req.get('x-grafana-user');
  return u && GRAFANA_USER.test(u) ? u : undefined;
}

/** Who did it, for audit events: the key name, plus the Grafana user when the proxy sent one. */
export function actor(req: Request): string {
  const p = principal(req);
  const g = grafanaUser(req);
  return g ? `${p.name} (grafana:${g})` : p.name;
}

/** The user a Grafana self-view request is limited to, or undefined for a full view. */
export function selfUser(req: Request): string | undefined {
  if (req.get('x-authwatch-self-view')?.toLowerCase() !== 'true') return undefined;
  const u = grafanaUser(req);
  // Self view without a user must not fall back to everything.
  return u ?? '\u0000no-user';
}

// ---------------------------------------------------------------------------------------------
// Browser defences: security headers and the keyless-mode Host/Origin checks (requestGuard, before
// any route), JSON only on state-changing requests (jsonOnStateChange, in the authenticator).

/** Host values a collector without keys answers: loopback names, with or without a port. */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** application/json or any application/*+json. */
const JSON_MEDIA = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;
const PROTOBUF = 'application/x-protobuf';

function mediaType(req: Request): string | undefined {
  const ct = req.headers['content-type'];
  return ct === undefined ? undefined : ct.split(';')[0].trim().toLowerCase();
}

const quoted = (v: string) => JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}…` : v);

function refuse(res: Response, status: number, error: string): void {
  res.status(status).json(errorBody(status, error));
}

/**
 * 415 unless a POST/PUT/PATCH/DELETE declares JSON (OTLP protobuf on /v1/logs), even with no body,
 * in every mode. HTML forms can only send form or text/plain bodies, and a page's fetch() with JSON
 * needs a CORS preflight, which the collector never grants: no browser page can change state.
 * Runs after authentication, so a missing key is still a 401.
 */
function jsonOnStateChange(req: Request, res: Response, next: () => void): void {
  if (!STATE_CHANGING.has(req.method)) return next();
  const path = req.path.toLowerCase().replace(/\/+$/, '');
  const type = mediaType(req);
  if (type !== undefined && (JSON_MEDIA.test(type) || (type === PROTOBUF && path === '/v1/logs'))) return next();
  const allowed = path === '/v1/logs' ? `application/json or ${PROTOBUF}` : 'application/json';
  refuse(
    res,
    415,
    `Content-Type must be ${allowed} on ${req.method} requests, also when there is no body (got ${type === undefined ? 'none' : quoted(req.headers['content-type']!)})`,
  );
}

/**
 * - Every response: `X-Content-Type-Options: nosniff`; /v1 responses: `Cache-Control: no-store`.
 * - No keys configured (every request is admin): only loopback Host values (DNS rebinding) and
 *   no cross-origin browser requests (CSRF) — 403.
 * (JSON on state-changing requests is checked by the authenticator, after the key.)
 */
export function requestGuard(keys: KeyRing): RequestHandler {
  return (req, res, next) => {
    // Routing is case-insensitive and ignores a trailing slash: compare the same way.
    const path = req.path.toLowerCase().replace(/\/+$/, '');
    res.set('X-Content-Type-Options', 'nosniff');
    if (path === '/v1' || path.startsWith('/v1/')) res.set('Cache-Control', 'no-store');
    if (keys.empty) {
      const host = req.headers.host ?? '';
      if (!LOOPBACK_HOST.test(host)) {
        return refuse(
          res,
          403,
          `this collector runs without API keys, so it only answers requests addressed to 127.0.0.1, localhost or [::1] (got Host ${quoted(host)}); configure API keys (AUTHWATCH_INGEST_KEYS, AUTHWATCH_READ_KEYS, AUTHWATCH_ADMIN_KEYS) to serve other names`,
        );
      }
      const origin = req.headers.origin;
      if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`) {
        return refuse(
          res,
          403,
          `cross-origin request refused (Origin ${quoted(origin)}): a collector without API keys does not answer web pages from other origins; configure API keys to use it from elsewhere`,
        );
      }
    }
    next();
  };
}
