// HTTP source: POST /v1/events. JSON only (415 otherwise), ≤ 5 MB (413), ≤ 10,000 events; the
// whole batch is validated before anything is stored; 202 only after the commit. The node:http
// fast path (http/fast-path.ts) takes the plain requests first and answers them the same way.
import { Router } from 'express';
import { jsonBody, requireJson } from '../http/body';
import type { ApiContext } from '../http/context';
import { errorBody } from '../http/errors';
import type { FastRoute, JsonAnswer } from '../http/fast-path';
import { MAX_BODY_BYTES } from '../schema/event';

async function answerEvents(ctx: ApiContext, body: unknown): Promise<JsonAnswer> {
  // The parsed body is the request's alone: the pipeline may let its objects go once validated.
  const r = await ctx.pipeline.submit(body, { consume: true });
  if (!r.ok) return { status: 400, body: errorBody(400, r.error, r.details) };
  return { status: 202, body: { accepted: r.accepted, duplicates: r.duplicates } };
}

export function fastEventsRoute(ctx: ApiContext): FastRoute {
  return { path: '/v1/events', access: 'ingest', maxBytes: MAX_BODY_BYTES, answer: (body) => answerEvents(ctx, body) };
}

export function httpSource(ctx: ApiContext): Router {
  const r = Router();
  r.post('/v1/events', ctx.auth('ingest'), requireJson, jsonBody, async (req, res) => {
    const a = await answerEvents(ctx, req.body);
    res.status(a.status).json(a.body);
  });
  return r;
}
