// HTTP source: POST /v1/events. JSON only (415 otherwise), ≤ 5 MB (413), ≤ 10,000 events; the
// whole batch is validated before anything is stored; 202 only after the commit.
import express, { Router, type RequestHandler } from 'express';
import type { ApiContext } from '../api/context';
import { HttpError } from '../api/errors';
import { MAX_BODY_BYTES, validateBatch } from '../schema/event';

/** 415 unless the body is declared JSON (application/json or any +json type). */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is(['application/json', '+json'])) {
    next(new HttpError(415, `Content-Type must be application/json (got ${req.get('content-type') ? `"${req.get('content-type')!.slice(0, 80)}"` : 'none'})`));
    return;
  }
  next();
};

export const jsonBody = express.json({ limit: MAX_BODY_BYTES, type: ['application/json', '+json'] });

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
