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

export const jsonBody = express.json({ limit: MAX_BODY_BYTES, type: ['application/json', '+json'] });
