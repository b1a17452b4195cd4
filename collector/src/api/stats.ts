// GET /v1/stats: headline numbers for a range (logins/failures are login events by outcome).
import { Router } from 'express';
import type { ApiContext } from '../http/context';
import { EVENT_FILTER_PARAMS, eventFilter, onlyParams } from './params';

export function statsRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/stats', ctx.auth('read'), onlyParams(...EVENT_FILTER_PARAMS), async (req, res) => {
    const filter = eventFilter(req, ctx.config.hideDetails);
    const now = Date.now();
    const [ev, active, locked] = await Promise.all([
      ctx.store.eventStats(filter),
      ctx.store.countActiveSessions(filter.user),
      ctx.store.countLockedAccounts(now, filter.user),
    ]);
    const attempts = ev.logins + ev.failures;
    res.json({
      logins: ev.logins,
      failures: ev.failures,
      failure_ratio: attempts ? ev.failures / attempts : 0,
      active_sessions: active,
      locked_accounts: locked,
      unique_users: ev.unique_users,
    });
  });
  return r;
}
