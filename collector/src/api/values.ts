// GET /v1/values/:field: distinct values of one field, for Grafana template variables.
import { Router } from 'express';
import { VALUE_FIELDS, type ValueField } from '../store/store';
import type { ApiContext } from '../http/context';
import { badParam, EVENT_FILTER_PARAMS, eventFilter, hiddenDetail, int, onlyParams } from './params';
import { hidesDetails } from './redact';
import { HIDDEN_FIELDS } from '../schema/redact';

export const VALUES_PARAMS = [...EVENT_FILTER_PARAMS, 'limit'] as const;

export function valueRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/values/:field', ctx.auth('read'), onlyParams(...VALUES_PARAMS), async (req, res) => {
    const field = req.params.field as string;
    if (!(VALUE_FIELDS as readonly string[]).includes(field)) throw badParam('field', `must be one of ${VALUE_FIELDS.join(', ')}`);
    // An empty list would still say "none match q" for each q: refuse outright.
    if (hidesDetails(req, ctx.config.hideDetails) && (HIDDEN_FIELDS as readonly string[]).includes(field)) throw hiddenDetail(`/v1/values/${field}`);
    const limit = int(req.query, 'limit', 100, 1, 1000);
    const values = await ctx.store.distinctValues(field as ValueField, eventFilter(req, ctx.config.hideDetails), limit);
    res.json({ values });
  });
  return r;
}
