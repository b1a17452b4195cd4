// Lockouts: list (read), unlock a user or an IP (admin, audited with unlock + admin events).
import { Router } from 'express';
import { ipCounter, ipUnlockKey, keyRules, userCounter, userLockKey } from '../decision/keys';
import type { ProcessContext } from '../pipeline/contracts';
import { derivedEvent } from '../schema/derived-event';
import type { LockRow } from '../store/store';
import { actor, selfUser } from '../http/auth';
import type { ApiContext } from '../http/context';
import { badRequest } from '../http/errors';
import { requireKnownUser } from './known-user';
import { choice, int, many, onlyParams, restrictUsers } from './params';
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

function recordUnlocks(pctx: ProcessContext, lifted: LockRow[], who: string, subject: string, action: string): void {
  for (const l of lifted) {
    const attributes: Record<string, string | number | boolean> = { scope: l.scope, lock_id: l.id };
    if (l.ip) attributes.ip = l.ip;
    pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'unlock', user: l.user ?? subject, ip: l.ip, actor: who, reason: 'admin_unlock', attributes }));
  }
  pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: subject, reason: action, actor: who, attributes: { unlocked: lifted.length } }));
}

export function lockoutRoutes(ctx: ApiContext): Router {
  const r = Router();
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
    const user = req.params.user as string;
    await requireKnownUser(ctx, user);
    const who = actor(req);
    const key = userLockKey(user, keyRules(await ctx.store.getPolicy(), ctx.config.ipTruncate));
    const unlocked = await ctx.pipeline.run(async (pctx) => {
      const lifted = await pctx.tx.unlock({ user: key }, pctx.now, who);
      await pctx.tx.clearFailures([userCounter(key)]);
      recordUnlocks(pctx, lifted, who, user, 'unlock_user');
      return lifted.length;
    }, { users: [key] });
    res.json({ unlocked });
  });

  // An address, or the IPv6 prefix it is blocked under ("2001:db8:1:2::/64", URL-encoded).
  r.post('/v1/ips/:ip/unlock', ctx.auth('admin'), async (req, res) => {
    const ip = req.params.ip as string;
    const rules = keyRules(await ctx.store.getPolicy(), ctx.config.ipTruncate);
    const key = ip.length <= 64 ? ipUnlockKey(ip, rules) : null;
    if (!key) {
      throw badRequest(
        `"${ip.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}" is not an IP address or a blockable prefix (IPv4 address, IPv6 address or /${rules.ipv6Prefix}…/128 prefix)`,
      );
    }
    const who = actor(req);
    const unlocked = await ctx.pipeline.run(async (pctx) => {
      const lifted = await pctx.tx.unlock({ ip: key }, pctx.now, who);
      await pctx.tx.clearFailures([ipCounter(key)]);
      recordUnlocks(pctx, lifted, who, key, 'unlock_ip');
      return lifted.length;
    }, { ips: [key] });
    res.json({ unlocked });
  });
  return r;
}
