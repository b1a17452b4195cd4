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

/** The status and JSON body for an error a route threw (logged when it is a 500). */
export function errorAnswer(err: unknown, log: Logger): { status: number; body: ReturnType<typeof errorBody> } {
  const answer = (status: number, message: string, details?: unknown) => ({ status, body: errorBody(status, message, details) });
  if (err instanceof HttpError) return answer(err.status, err.message, err.details);
  if (err instanceof BadQuery) return answer(400, err.message);
  const e = err as BodyParserError;
  if (e.type === 'entity.too.large') return answer(413, `request body is over the ${Math.round((e.limit ?? 0) / 1024 / 1024)} MB limit; send smaller batches`);
  if (e.type === 'entity.parse.failed') return answer(400, `malformed JSON: ${e.message ?? 'cannot parse body'}`);
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return answer(415, e.message ?? 'unsupported encoding');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return answer(e.status, e.message ?? 'bad request');
  log.error('request failed', { error: err instanceof Error ? err.stack ?? err.message : String(err) });
  return answer(500, 'internal error');
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    const { status, body } = errorAnswer(err, log);
    res.status(status).json(body);
  };
}
