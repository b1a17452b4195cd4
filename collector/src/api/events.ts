// GET /v1/events: filtered, keyset-paginated event log.
import { Router } from 'express';
import type { ApiContext } from './context';
import { choice, eventFilter, int, one } from './params';
import { hidesDetails, redactEvents } from './redact';

export function eventRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/events', ctx.auth('read'), async (req, res) => {
    const filter = eventFilter(req);
    const limit = int(req.query, 'limit', 100, 1, 1000);
    const order = choice(req.query, 'order', ['desc', 'asc'] as const, 'desc');
    const page = await ctx.store.queryEvents(filter, { limit, cursor: one(req.query, 'cursor') || null, order });
    res.json({ ...page, events: redactEvents(page.events, hidesDetails(req, ctx.config.hideDetails)) });
  });
  return r;
}
