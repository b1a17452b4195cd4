// JSON errors for every failure: route-thrown HttpErrors, body-parser errors (413/400/415) and the
// catch-all 500 (logged without the request body).
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BadQuery } from '../store/store';
import type { Logger } from '../log';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, message, details);

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  message?: string;
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      res.status(err.status).json(err.details === undefined ? { error: err.message } : { error: err.message, details: err.details });
      return;
    }
    if (err instanceof BadQuery) {
      res.status(400).json({ error: err.message });
      return;
    }
    const e = err as BodyParserError;
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: `request body is over the ${Math.round((e.limit ?? 0) / 1024 / 1024)} MB limit; send smaller batches` });
      return;
    }
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: `malformed JSON: ${e.message ?? 'cannot parse body'}` });
      return;
    }
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      res.status(415).json({ error: e.message ?? 'unsupported encoding' });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: e.message ?? 'bad request' });
      return;
    }
    log.error('request failed', { error: err instanceof Error ? err.stack ?? err.message : String(err) });
    res.status(500).json({ error: 'internal error' });
  };
}
