// HTTP source: POST /v1/events. JSON only (415 otherwise), ≤ 5 MB (413), ≤ 10,000 events; the
// whole batch is validated before anything is stored; 202 only after the commit.
import { Router } from 'express';
import { jsonBody, requireJson } from '../http/body';
import type { ApiContext } from '../http/context';
import { validateBatch } from '../schema/event';

export function httpSource(ctx: ApiContext): Router {
  const r = Router();
  r.post('/v1/events', ctx.auth('ingest'), requireJson, jsonBody, async (req, res) => {
    const now = ctx.pipeline.now();
    const result = validateBatch(req.body, { now, hashSessionId: ctx.hashSessionId, maxFutureMs: ctx.config.maxFutureMs });
    if (!result.ok) {
      ctx.telemetry.rejected(Array.isArray(req.body) ? req.body.length : 1);
      res.status(400).json({ error: result.error, details: result.details });
      return;
    }
    const { accepted, duplicates } = await ctx.pipeline.ingest(result.events);
    res.status(202).json({ accepted, duplicates });
  });
  return r;
}
