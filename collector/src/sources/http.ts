// HTTP source: POST /v1/events. JSON only (415 otherwise), ≤ 5 MB (413), ≤ 10,000 events; the
// whole batch is validated before anything is stored; 202 only after the commit.
import { Router } from 'express';
import { jsonBody, requireJson } from '../http/body';
import type { ApiContext } from '../http/context';
import { errorBody } from '../http/errors';

export function httpSource(ctx: ApiContext): Router {
  const r = Router();
  r.post('/v1/events', ctx.auth('ingest'), requireJson, jsonBody, async (req, res) => {
    const r = await ctx.pipeline.submit(req.body);
    if (!r.ok) {
      res.status(400).json(errorBody(400, r.error, r.details));
      return;
    }
    res.status(202).json({ accepted: r.accepted, duplicates: r.duplicates });
  });
  return r;
}
