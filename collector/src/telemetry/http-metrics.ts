// HTTP request duration histogram for the "Collector health" dashboard. The route label is the
// express route pattern (/v1/sessions/:id), never the raw path, so ids cannot explode cardinality.
import type { Histogram, Meter } from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';

export const HTTP_DURATION_METRIC = 'authwatch_http_request_duration_seconds';

/** Seconds; from 1 ms (decision API target) to 10 s (big batches). */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Requests no route matched (404s, scanners) share one label value. */
export const UNMATCHED_ROUTE = 'unmatched';

function routeOf(req: Request): string {
  const route: unknown = req.route;
  if (!route || typeof route !== 'object' || !('path' in route)) return UNMATCHED_ROUTE;
  const path = (route as { path: unknown }).path;
  const pattern = Array.isArray(path) ? path.map(String).join('|') : String(path);
  return `${req.baseUrl ?? ''}${pattern}` || '/';
}

export interface HttpMetrics {
  middleware: RequestHandler;
  /** One request answered outside express (the node:http fast path), by its route pattern. */
  record(route: string, method: string, status: number, seconds: number): void;
}

export function createHttpMetrics(meter: Meter): HttpMetrics {
  // The name already carries the unit, so exporters must not append another `_seconds`.
  const histogram: Histogram = meter.createHistogram(HTTP_DURATION_METRIC, {
    description: 'Collector HTTP request duration by route pattern, method and status.',
    unit: 's',
    advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS },
  });
  const record = (route: string, method: string, status: number, seconds: number) =>
    histogram.record(seconds, { route, method: METHODS.has(method) ? method : 'other', status: String(status) });
  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    // 'close' fires after 'finish', and also when the client went away before the response ended.
    res.once('close', () => record(routeOf(req), req.method, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9));
    next();
  };
  return { middleware, record };
}
