// PLACEHOLDER — the telemetry work (OpenTelemetry logs + metrics) replaces this body; the exported
// names and signatures are what server.ts wires, keep them.
import type { Sink } from '../pipeline';
import type { RequestHandler } from 'express';

export interface TelemetryOptions {
  env: NodeJS.ProcessEnv;
  /** Read from the store so gauges are true after a restart. */
  gauges: { sessionsActive(): Promise<number>; accountsLocked(): Promise<number> };
}

export interface Telemetry {
  /** Gets every committed event (log records + counters). */
  sink: Sink;
  /** GET /metrics handler (Prometheus text). */
  metricsHandler: RequestHandler;
  /** Counts HTTP request duration etc.; mounted before the routes. */
  httpMiddleware: RequestHandler;
  /** Events refused by validation (authwatch_events_rejected_total). */
  rejected(count: number): void;
  shutdown(): Promise<void>;
}

export function createTelemetry(_opts: TelemetryOptions): Telemetry {
  return {
    sink: { name: 'telemetry', write() {}, async close() {} },
    metricsHandler: (_req, res) => {
      res.type('text/plain').send('');
    },
    httpMiddleware: (_req, _res, next) => next(),
    rejected() {},
    async shutdown() {},
  };
}
