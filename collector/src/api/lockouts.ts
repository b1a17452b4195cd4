// Lockouts: list (read), unlock a user or an IP (admin, audited with unlock + admin events).
import { Router } from 'express';
import { isIP } from 'node:net';
import { derivedEvent, type CoreProcessContext } from '../processors/core';
import { ipKey, userKey } from '../processors/lockout';
import type { LockRow } from '../store/store';
import { actor, selfUser } from './auth';
import type { ApiContext } from './context';
import { badRequest } from './errors';
import { choice, int, many, restrictUsers } from './params';
import { hidesDetails, redact } from './redact';

export function lockView(l: LockRow, now: number) {
  const state = l.unlocked_at !== null ? 'unlocked' : l.locked_until !== null && l.locked_until <= now ? 'expired' : 'locked';
  return {
    id: l.id,
    user: l.user,
    scope: l.scope,
    ip: l.ip,
    failures: l.failures,
    locked_at: l.locked_at,
    locked_until: l.locked_until,
    reason: l.reason,
    state,
    unlocked_at: l.unlocked_at,
    unlocked_by: l.unlocked_by,
  };
}

function recordUnlocks(pctx: CoreProcessContext, lifted: LockRow[], who: string, subject: string, action: string): void {
  for (const l of lifted) {
    const attributes: Record<string, string | number | boolean> = { scope: l.scope, lock_id: l.id };
    if (l.ip) attributes.ip = l.ip;
    pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'unlock', user: l.user ?? subject, ip: l.ip, actor: who, reason: 'admin_unlock', attributes }));
  }
  pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: subject, reason: action, actor: who, attributes: { unlocked: lifted.length } }));
}

export function lockoutRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/lockouts', ctx.auth('read'), async (req, res) => {
    const now = Date.now();
    const rows = await ctx.store.listLockouts({
      state: choice(req.query, 'state', ['locked', 'all'] as const, 'locked'),
      user: restrictUsers(many(req.query, 'user'), selfUser(req)),
      now,
      limit: int(req.query, 'limit', 1000, 1, 10000),
    });
    const hide = hidesDetails(req, ctx.config.hideDetails);
    res.json({ lockouts: rows.map((l) => (hide ? redact(lockView(l, now)) : lockView(l, now))) });
  });

  r.post('/v1/users/:user/unlock', ctx.auth('admin'), async (req, res) => {
    const user = req.params.user as string;
    const who = actor(req);
    const unlocked = await ctx.pipeline.run(async (pctx) => {
      const lifted = await pctx.tx.unlock({ user }, pctx.now, who);
      await pctx.tx.clearFailures([userKey(user)]);
      recordUnlocks(pctx, lifted, who, user, 'unlock_user');
      return lifted.length;
    });
    res.json({ unlocked });
  });

  r.post('/v1/ips/:ip/unlock', ctx.auth('admin'), async (req, res) => {
    const ip = req.params.ip as string;
    if (!isIP(ip)) throw badRequest(`"${ip.slice(0, 64)}" is not a valid IPv4 or IPv6 address`);
    const who = actor(req);
    const unlocked = await ctx.pipeline.run(async (pctx) => {
      const lifted = await pctx.tx.unlock({ ip }, pctx.now, who);
      await pctx.tx.clearFailures([ipKey(ip)]);
      recordUnlocks(pctx, lifted, who, ip, 'unlock_ip');
      return lifted.length;
    });
    res.json({ unlocked });
  });
  return r;
}
