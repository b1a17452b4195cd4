// GET /v1/values/:field: distinct values of one field, for Grafana template variables.
import { Router } from 'express';
import { VALUE_FIELDS, type ValueField } from '../store/store';
import type { ApiContext } from './context';
import { badRequest } from './errors';
import { eventFilter, int } from './params';
import { hidesDetails } from './redact';

export function valueRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/values/:field', ctx.auth('read'), async (req, res) => {
    const field = req.params.field as string;
    if (!(VALUE_FIELDS as readonly string[]).includes(field)) throw badRequest(`field must be one of ${VALUE_FIELDS.join(', ')}`);
    if (hidesDetails(req, ctx.config.hideDetails) && (field === 'ip' || field === 'country')) {
      res.json({ values: [] });
      return;
    }
    const limit = int(req.query, 'limit', 100, 1, 1000);
    const values = await ctx.store.distinctValues(field as ValueField, eventFilter(req), limit);
    res.json({ values });
  });
  return r;
}
