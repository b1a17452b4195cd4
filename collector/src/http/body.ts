// Request bodies: JSON only (415 otherwise), at most MAX_BODY_BYTES (413).
import express, { type RequestHandler } from 'express';
import { MAX_BODY_BYTES } from '../schema/event';
import { HttpError } from './errors';

/** 415 unless the body is declared JSON (application/json or any +json type). */
export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is(['application/json', '+json'])) {
    next(new HttpError(415, `Content-Type must be application/json (got ${req.get('content-type') ? `"${req.get('content-type')!.slice(0, 80)}"` : 'none'})`));
    return;
  }
  next();
};

/** A body the node:http fast path (fast-path.ts) already read before handing the request on. */
export type Preread = { body: unknown } | { error: Error & { type: string; status: number } };
export const PREREAD = Symbol('authwatch.preread');

const parseJson = express.json({ limit: MAX_BODY_BYTES, type: ['application/json', '+json'] });

/** express.json(), or the fast path's reading of the same body (its stream is consumed by then). */
export const jsonBody: RequestHandler = (req, res, next) => {
  const pre = (req as { [PREREAD]?: Preread })[PREREAD];
  if (pre === undefined) return parseJson(req, res, next);
  if ('error' in pre) return next(pre.error);
  req.body = pre.body;
  next();
};
