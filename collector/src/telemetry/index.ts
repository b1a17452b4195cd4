// Telemetry composition: one OTel resource and MeterProvider (GET /metrics for Prometheus, OTLP
// push when configured) shared by the event sink (sinks/telemetry.ts: a log record per stored event,
// the authentication metrics) and the collector's own telemetry (self.ts: HTTP request metrics, the
// rejected-events counter). Configured by the standard OTEL_* variables (sinks/otel-config.ts,
// docs/telemetry.md).
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { RequestHandler } from 'express';
import type { Sink } from '../pipeline/contracts';
import type { GaugeSource } from '../sinks/metrics-auth';
import { createLogsPipeline } from '../sinks/otel-logs';
import { createTelemetrySink, settleWithin, type TelemetryConfig } from '../sinks/telemetry';
import { createMetricsPipeline } from './meter-provider';
import { createSelfTelemetry } from './self';

export interface TelemetryOptions {
  config: TelemetryConfig;
  /** Read from the store so gauges are true after a restart. */
  gauges: GaugeSource;
}

export interface Telemetry {
  /** Gets every committed event (log records + counters). */
  sink: Sink;
  /** GET /metrics handler (Prometheus text). */
  metricsHandler: RequestHandler;
  /** Counts HTTP request duration etc.; mounted before the routes. */
  httpMiddleware: RequestHandler;
  /** The same histogram for a request the node:http fast path answered (route pattern, method, status, seconds). */
  httpRecord(route: string, method: string, status: number, seconds: number): void;
  /** Events refused by validation (authwatch_events_rejected_total). */
  rejected(count: number): void;
  shutdown(): Promise<void>;
}

const METER_NAME = '@authwatch/collector';
const REPEAT_AFTER_MS = 5 * 60_000;

/** Logs each distinct problem at most once per 5 minutes, so a broken backend cannot flood stderr. */
function throttledReporter(): (what: string, err: unknown) => void {
  const last = new Map<string, number>();
  return (what, err) => {
    const key = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    const now = Date.now();
    if (now - (last.get(key) ?? -Infinity) < REPEAT_AFTER_MS) return;
    last.set(key, now);
    console.error(`authwatch telemetry: ${key}`);
  };
}

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  const config = opts.config.otel;
  for (const w of config.warnings) console.error(`authwatch telemetry: ${w}`);
  const report = throttledReporter();
  const flushMs = opts.config.flushMs;
  // Export failures (backend down, 4xx) reach the SDK's global error handler, which otherwise
  // only talks to an unregistered diag logger, i.e. says nothing.
  setGlobalErrorHandler((err) => report('export failed', err));

  const resource = defaultResource().merge(
    resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName }),
  );
  const metrics = createMetricsPipeline(config, resource, report);
  const meter = metrics.provider.getMeter(METER_NAME);
  const logs = createLogsPipeline(config, resource);
  const sink = createTelemetrySink({ meter, logs, gauges: opts.gauges, metricServices: opts.config.metricServices, flushMs, report });
  const self = createSelfTelemetry(meter);

  let shutdownOnce: Promise<void> | undefined;
  return {
    sink,
    metricsHandler: metrics.metricsHandler,
    httpMiddleware: self.httpMiddleware,
    httpRecord: self.httpRecord,
    rejected: self.rejected,
    shutdown() {
      // Flushes pending log records and pushes a last metrics export before exit.
      shutdownOnce ??= settleWithin(
        flushMs,
        Promise.allSettled([logs?.provider.shutdown(), metrics.provider.shutdown()]).then((results) => {
          for (const r of results) if (r.status === 'rejected') report('shutdown', r.reason);
        }),
        () => report('shutdown', new Error(`telemetry not flushed after ${flushMs} ms; giving up`)),
      );
      return shutdownOnce;
    },
  };
}
