// OTLP/HTTP logs source: POST /v1/logs (the OTLP/HTTP default path) with the ingest role, in the
// JSON (application/json) or protobuf (application/x-protobuf) encoding. Auth events among the
// records go through the same validation and pipeline as POST /v1/events, all or nothing; records
// that are not auth events are skipped and reported as OTLP partial success. Answers in the
// request's encoding: ExportLogsServiceResponse on success, google.rpc.Status on errors.
import express, { Router, type Request, type Response } from 'express';
import type { ApiContext } from '../http/context';
import { HttpError } from '../http/errors';
import { MAX_BATCH_EVENTS, MAX_BODY_BYTES } from '../schema/event';
import { mapLogsRequest, type OtlpLogsRequest } from './otlp-map';
import { decodeLogsRequest, encodeLogsResponse, encodeStatus } from './otlp-proto';

const PROTOBUF = 'application/x-protobuf';
// google.rpc.Code
const INVALID_ARGUMENT = 3;

function isProtobuf(req: Request): boolean {
  return req.is(PROTOBUF) === PROTOBUF;
}

function reply(req: Request, res: Response, status: number, partial: { rejectedLogRecords: number; errorMessage: string } | null): void {
  if (isProtobuf(req)) {
    res.status(status).type(PROTOBUF).send(Buffer.from(encodeLogsResponse(partial)));
  } else {
    res.status(status).json(partial ? { partialSuccess: partial } : {});
  }
}

function fail(req: Request, res: Response, status: number, message: string, details?: unknown): void {
  if (isProtobuf(req)) {
    res.status(status).type(PROTOBUF).send(Buffer.from(encodeStatus(INVALID_ARGUMENT, message)));
  } else {
    // google.rpc.Status fields, plus Authwatch's usual error/details for people reading it.
    res.status(status).json({ code: INVALID_ARGUMENT, message, error: message, ...(details ? { details } : {}) });
  }
}

export function otlpSource(ctx: ApiContext): Router {
  const r = Router();
  r.post(
    '/v1/logs',
    ctx.auth('ingest'),
    (req, _res, next) => {
      if (!req.is(['application/json', PROTOBUF])) {
        next(new HttpError(415, `Content-Type must be application/json or ${PROTOBUF} (OTLP/HTTP logs)`));
        return;
      }
      next();
    },
    express.json({ limit: MAX_BODY_BYTES, type: 'application/json' }),
    express.raw({ limit: MAX_BODY_BYTES, type: PROTOBUF }),
    async (req, res) => {
      let body: OtlpLogsRequest;
      if (isProtobuf(req)) {
        try {
          body = decodeLogsRequest(req.body as Buffer) as OtlpLogsRequest;
        } catch (err) {
          fail(req, res, 400, `malformed protobuf ExportLogsServiceRequest: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
      } else {
        if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
          fail(req, res, 400, 'body must be an OTLP ExportLogsServiceRequest object ({"resourceLogs":[…]})');
          return;
        }
        body = req.body as OtlpLogsRequest;
      }
      let mapped;
      try {
        mapped = mapLogsRequest(body);
      } catch (err) {
        fail(req, res, 400, `malformed OTLP logs request: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      const skippedMsg = mapped.skipped
        ? `${mapped.skipped} of ${mapped.total} log records are not authentication events (no event name authwatch.<kind> / attribute event.name) and were skipped`
        : '';
      if (mapped.events.length === 0) {
        reply(req, res, 200, mapped.skipped ? { rejectedLogRecords: mapped.skipped, errorMessage: skippedMsg } : null);
        return;
      }
      if (mapped.events.length > MAX_BATCH_EVENTS) {
        fail(req, res, 400, `${mapped.events.length} authentication events in one request is over the limit of ${MAX_BATCH_EVENTS}`);
        return;
      }
      // The mapped events are ours: given up once validated (see the HTTP source).
      const result = await ctx.pipeline.submit(mapped.events, { consume: true });
      if (!result.ok) {
        // Batch indexes count authentication records only, in request order.
        fail(req, res, 400, result.error, result.details);
        return;
      }
      reply(req, res, 200, mapped.skipped ? { rejectedLogRecords: mapped.skipped, errorMessage: skippedMsg } : null);
    },
  );
  return r;
}
