// POST /v1/check: "may this user log in from this IP now?" — answered from the locks in force
// (indexed lookups on the read connection).
import { Router } from 'express';
import { isIP } from 'node:net';
import { decide } from '../processors/lockout';
import { requireJson, jsonBody } from '../sources/http';
import type { ApiContext } from './context';
import { badRequest } from './errors';

export function checkRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.post('/v1/check', ctx.auth('ingest'), requireJson, jsonBody, async (req, res) => {
    const body = req.body as { user?: unknown; ip?: unknown } | null;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body must be {"user": "...", "ip": "..."}');
    const user = body.user;
    const ip = body.ip;
    if (user !== undefined && user !== null && (typeof user !== 'string' || !user)) throw badRequest('user must be a non-empty string', [{ path: 'user', message: 'must be a non-empty string' }]);
    if (ip !== undefined && ip !== null && (typeof ip !== 'string' || !isIP(ip))) throw badRequest('ip must be a valid IPv4 or IPv6 address', [{ path: 'ip', message: 'not an IP address' }]);
    if (!user && !ip) throw badRequest('send "user", "ip" or both');
    const now = Date.now();
    const locks = await ctx.store.activeLocks((user as string | undefined) ?? null, (ip as string | undefined) ?? null, now);
    res.json(decide(locks, now));
  });
  return r;
}
