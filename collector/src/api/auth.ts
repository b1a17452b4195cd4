// Authentication (Bearer API key) and role checks, plus the per-request view settings they imply:
// the actor written in audit events, hidden network details for read keys, the Grafana self view.
import type { Request, RequestHandler } from 'express';
import type { KeyRing, Role } from '../auth/keys';

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

export function authenticator(keys: KeyRing): (access: Access) => RequestHandler {
  return (access) => (req, res, next) => {
    if (keys.empty) {
      // Loopback-only mode (config refuses other hosts without keys).
      res.locals.principal = ANONYMOUS;
      return next();
    }
    const header = req.get('authorization');
    const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    if (!m) {
      res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: 'missing API key: send "Authorization: Bearer <key>"' });
      return;
    }
    const key = keys.find(m[1].trim());
    if (!key) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid API key' });
      return;
    }
    if (!ALLOWED[access].includes(key.role)) {
      const need = access === 'ingest_or_read' ? 'ingest or read' : access;
      res.status(403).json({ error: `this endpoint needs the ${need} role; key "${key.name}" has the ${key.role} role` });
      return;
    }
    res.locals.principal = { role: key.role, name: key.name };
    next();
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
