// Sessions: list (read), state by id (ingest or read: the app asks "was this session ended?"),
// terminate one / all of a user's (admin: admin/service.ts runs it and audits it).
import { Router } from 'express';
import { createAdminService } from '../admin/service';
import type { SessionRow } from '../store/store';
import { actor, selfUser } from '../http/auth';
import type { ApiContext } from '../http/context';
import { HttpError } from '../http/errors';
import { badParam, choice, int, many, onlyParams, restrictUsers, time } from './params';
import { hidesDetails } from './redact';
import { redact } from '../schema/redact';

export const SESSION_STATES = ['active', 'ended', 'all'] as const;
export const SESSIONS_PARAMS = ['state', 'user', 'from', 'to', 'limit'] as const;

export function sessionView(s: SessionRow) {
  return {
    id: s.id,
    user: s.user,
    user_id: s.user_id,
    ip: s.ip,
    country: s.country,
    city: s.city,
    isp: s.isp,
    asn: s.asn,
    browser: s.browser,
    os: s.os,
    device: s.device,
    device_type: s.device_type,
    service: s.service,
    started_at: s.started_at,
    last_seen_at: s.last_seen_at,
    ended_at: s.ended_at,
    end_reason: s.end_reason,
    state: s.ended_at === null ? ('active' as const) : ('ended' as const),
  };
}

export function sessionRoutes(ctx: ApiContext): Router {
  const r = Router();

  const admin = createAdminService(ctx);

  r.get('/v1/sessions', ctx.auth('read'), onlyParams(...SESSIONS_PARAMS), async (req, res) => {
    const q = req.query;
    const query = {
      state: choice(q, 'state', SESSION_STATES, 'active'),
      user: restrictUsers(many(q, 'user'), selfUser(req)),
      from: time(q, 'from'),
      to: time(q, 'to'),
      // The sessions panel lists sessions whole (virtualized, 10k+ rows).
      limit: int(q, 'limit', 100, 1, 50_000),
    };
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw badParam('from', 'must not be after to');
    const rows = await ctx.store.listSessions(query);
    const hide = hidesDetails(req, ctx.config.hideDetails);
    res.json({ sessions: rows.map((s) => (hide ? redact(sessionView(s)) : sessionView(s))) });
  });

  r.get('/v1/sessions/:id', ctx.auth('ingest_or_read'), onlyParams(), async (req, res) => {
    const s = await admin.findSession(req.params.id as string, selfUser(req));
    if (!s) throw new HttpError(404, 'unknown session');
    res.json({ id: s.id, state: s.ended_at === null ? 'active' : 'ended', end_reason: s.end_reason });
  });

  r.post('/v1/sessions/:id/terminate', ctx.auth('admin'), async (req, res) => {
    res.json(await admin.terminateSession(req.params.id as string, actor(req), selfUser(req)));
  });

  r.post('/v1/users/:user/sessions/terminate', ctx.auth('admin'), async (req, res) => {
    res.json({ terminated: await admin.terminateUserSessions(req.params.user as string, actor(req)) });
  });
  return r;
}
