// The collector's own telemetry, apart from the events it stores: the HTTP request duration
// histogram (middleware mounted before every route) and authwatch_events_rejected_total, which the
// pipeline's validation stage feeds. GET /metrics (meter-provider.ts) exposes these beside the
// event sink's authwatch_* counters.
import type { Counter, Meter } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { createHttpMetrics, type HttpMetrics } from './http-metrics';

export interface SelfTelemetry {
  /** Counts HTTP request duration by route pattern, method and status; mounted before the routes. */
  httpMiddleware: RequestHandler;
  /** The same histogram for a request the node:http fast path answered. */
  httpRecord: HttpMetrics['record'];
  /** Events refused by validation (authwatch_events_rejected_total). */
  rejected(count: number): void;
}

export function createSelfTelemetry(meter: Meter): SelfTelemetry {
  // Named without `_total`: the Prometheus exporter appends it to monotonic counters.
  const rejectedEvents: Counter = meter.createCounter('authwatch_events_rejected', {
    description: 'Events refused by validation (nothing of their batch was stored).',
  });
  // Exists from the start at 0: rate()/increase() cannot see the first increment of a new series.
  rejectedEvents.add(0);
  const http = createHttpMetrics(meter);
  return {
    httpMiddleware: http.middleware,
    httpRecord: http.record,
    rejected(count) {
      if (Number.isFinite(count) && count > 0) rejectedEvents.add(count);
    },
  };
}
