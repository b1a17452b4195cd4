// Sessions: list (read), state by id (ingest or read: the app asks "was this session ended?"),
// terminate one / all of a user's (admin, audited).
import { Router, type Request } from 'express';
import { derivedEvent } from '../schema/derived-event';
import { endSession } from '../processors/sessions';
import type { SessionRow } from '../store/store';
import { actor, selfUser } from '../http/auth';
import type { ApiContext } from '../http/context';
import { HttpError } from '../http/errors';
import { requireKnownUser } from './known-user';
import { badParam, choice, int, many, onlyParams, restrictUsers, time } from './params';
import { hidesDetails, redact } from './redact';

const HASH = /^[0-9a-f]{64}$/;
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

  /** The raw id the application knows, or the hash the list shows. */
  async function find(req: Request, id: string, lookup: (id: string) => Promise<SessionRow | undefined>): Promise<SessionRow | undefined> {
    let s = await lookup(ctx.hashSessionId(id));
    if (!s && HASH.test(id)) s = await lookup(id);
    const self = selfUser(req);
    if (s && self !== undefined && s.user !== self) return undefined;
    return s;
  }

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
    const s = await find(req, req.params.id as string, (id) => ctx.store.getSession(id));
    if (!s) throw new HttpError(404, 'unknown session');
    res.json({ id: s.id, state: s.ended_at === null ? 'active' : 'ended', end_reason: s.end_reason });
  });

  r.post('/v1/sessions/:id/terminate', ctx.auth('admin'), async (req, res) => {
    const who = actor(req);
    const out = await ctx.pipeline.run(async (pctx) => {
      const s = await find(req, req.params.id as string, (id) => pctx.tx.getSession(id));
      if (!s) throw new HttpError(404, 'unknown session');
      if (s.ended_at !== null) throw new HttpError(409, `session already ended (${s.end_reason ?? 'unknown reason'})`);
      await endSession(pctx, s, pctx.now, 'terminated_by_admin', who);
      pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: s.user, reason: 'terminate_session', session_id: s.id, actor: who }));
      return { id: s.id, state: 'ended', end_reason: 'terminated_by_admin' };
    });
    res.json(out);
  });

  r.post('/v1/users/:user/sessions/terminate', ctx.auth('admin'), async (req, res) => {
    const user = req.params.user as string;
    await requireKnownUser(ctx, user);
    const who = actor(req);
    const terminated = await ctx.pipeline.run(async (pctx) => {
      let n = 0;
      for (const s of await pctx.tx.activeSessionsOfUser(user)) if (await endSession(pctx, s, pctx.now, 'terminated_by_admin', who)) n++;
      pctx.emit(
        derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user, reason: 'terminate_user_sessions', actor: who, attributes: { terminated: n } }),
      );
      return n;
    });
    res.json({ terminated });
  });
  return r;
}
