// JSON errors for every failure, each with a code from one registry: route-thrown HttpErrors,
// body-parser errors (413/400/415) and the catch-all 500 (logged without the request body).
import { ERRORS, type ErrorCode } from '@authwatch/wire';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BadQuery } from '../store/store';
import type { Logger } from '../log';

// Every error the API answers, by code (fastify-style): the wire contract's registry, so a client
// can branch on `code` while the message stays free to improve. docs/collector.md lists them.
export { ERRORS, type ErrorCode };

const CODE_BY_STATUS = new Map<number, ErrorCode>(Object.entries(ERRORS).map(([code, e]) => [e.status, code as ErrorCode]));

/** The code for a status (4xx without an entry of its own is a bad request). */
export function codeFor(status: number): ErrorCode {
  return CODE_BY_STATUS.get(status) ?? (status >= 500 ? 'AW_INTERNAL' : 'AW_BAD_REQUEST');
}

export class HttpError extends Error {
  readonly code: ErrorCode;
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.code = codeFor(status);
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, message, details);

/** The JSON body of every error answer. */
export function errorBody(status: number, message: string, details?: unknown): { error: string; code: ErrorCode; details?: unknown } {
  return details === undefined ? { error: message, code: codeFor(status) } : { error: message, code: codeFor(status), details };
}

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json(errorBody(404, `no route for ${req.method} ${req.path}`));
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
      res.status(err.status).json(errorBody(err.status, err.message, err.details));
      return;
    }
    if (err instanceof BadQuery) {
      res.status(400).json(errorBody(400, err.message));
      return;
    }
    const e = err as BodyParserError;
    if (e.type === 'entity.too.large') {
      res.status(413).json(errorBody(413, `request body is over the ${Math.round((e.limit ?? 0) / 1024 / 1024)} MB limit; send smaller batches`));
      return;
    }
    if (e.type === 'entity.parse.failed') {
      res.status(400).json(errorBody(400, `malformed JSON: ${e.message ?? 'cannot parse body'}`));
      return;
    }
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      res.status(415).json(errorBody(415, e.message ?? 'unsupported encoding'));
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json(errorBody(e.status, e.message ?? 'bad request'));
      return;
    }
    log.error('request failed', { error: err instanceof Error ? err.stack ?? err.message : String(err) });
    res.status(500).json(errorBody(500, 'internal error'));
  };
}
