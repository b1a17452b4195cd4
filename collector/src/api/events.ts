// GET /v1/events: filtered, keyset-paginated event log.
import { Router } from 'express';
import type { ApiContext } from '../http/context';
import { choice, EVENT_FILTER_PARAMS, eventFilter, int, one, onlyParams, ORDERS } from './params';
import { hidesDetails } from './redact';
import { redactEvents } from '../schema/redact';

export const EVENTS_PARAMS = [...EVENT_FILTER_PARAMS, 'limit', 'cursor', 'order'] as const;

export function eventRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/events', ctx.auth('read'), onlyParams(...EVENTS_PARAMS), async (req, res) => {
    const filter = eventFilter(req, ctx.config.hideDetails);
    const limit = int(req.query, 'limit', 100, 1, 1000);
    const order = choice(req.query, 'order', ORDERS, 'desc');
    const page = await ctx.store.queryEvents(filter, { limit, cursor: one(req.query, 'cursor') || null, order });
    res.json({ ...page, events: redactEvents(page.events, hidesDetails(req, ctx.config.hideDetails)) });
  });
  return r;
}
