// Lockouts: list (read), unlock a user or an IP (admin: admin/service.ts runs it and audits it).
import { Router } from 'express';
import { createAdminService } from '../admin/service';
import { keyRules, userLockKey } from '../schema/lock-keys';
import type { LockRow } from '../store/store';
import { actor, selfUser } from '../http/auth';
import type { ApiContext } from '../http/context';
import { choice, int, many, onlyParams, restrictUsers } from './params';
import { hidesDetails } from './redact';
import { redact } from '../schema/redact';

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

export function lockoutRoutes(ctx: ApiContext): Router {
  const r = Router();
  const admin = createAdminService(ctx);
  r.get('/v1/lockouts', ctx.auth('read'), onlyParams('state', 'user', 'limit'), async (req, res) => {
    const now = ctx.pipeline.now();
    const rules = keyRules(await ctx.store.getPolicy(), ctx.config.ipTruncate);
    const users = restrictUsers(many(req.query, 'user'), selfUser(req));
    const rows = await ctx.store.listLockouts({
      state: choice(req.query, 'state', ['locked', 'all'] as const, 'locked'),
      // Locks are kept under the normalised name: "Eve" finds the locks of "eve".
      user: users?.map((u) => userLockKey(u, rules)),
      now,
      limit: int(req.query, 'limit', 1000, 1, 10000),
    });
    const hide = hidesDetails(req, ctx.config.hideDetails);
    res.json({ lockouts: rows.map((l) => (hide ? redact(lockView(l, now)) : lockView(l, now))) });
  });

  r.post('/v1/users/:user/unlock', ctx.auth('admin'), async (req, res) => {
    res.json({ unlocked: await admin.unlockUser(req.params.user as string, actor(req)) });
  });

  // An address, or the IPv6 prefix it is blocked under ("2001:db8:1:2::/64", URL-encoded).
  r.post('/v1/ips/:ip/unlock', ctx.auth('admin'), async (req, res) => {
    res.json({ unlocked: await admin.unlockIp(req.params.ip as string, actor(req)) });
  });
  return r;
}
