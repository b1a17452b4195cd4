// Telemetry out: one OpenTelemetry log record per stored event, the authwatch_* metrics (GET
// /metrics for Prometheus, OTLP push when configured) and the HTTP request duration histogram.
// Configured by the standard OTEL_* variables (see otel-config.ts and docs/telemetry.md).
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Sink } from '../pipeline';
import type { RequestHandler } from 'express';
import { AuthMetrics, type GaugeSource } from './metrics-auth';
import { createHttpMetrics } from './metrics-http';
import { createMetricsPipeline } from './metrics-provider';
import { readOtelConfig } from './otel-config';
import { toLogRecord } from './otel-log-record';
import { createLogsPipeline } from './otel-logs';

export interface TelemetryOptions {
  env: NodeJS.ProcessEnv;
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
  /** Events refused by validation (authwatch_events_rejected_total). */
  rejected(count: number): void;
  shutdown(): Promise<void>;
}

const METER_NAME = '@authwatch/collector';

/** Logs each distinct problem once, so a broken backend cannot flood stderr. */
function onceLogger(): (what: string, err: unknown) => void {
  const seen = new Set<string>();
  return (what, err) => {
    const key = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    if (seen.has(key)) return;
    seen.add(key);
    console.error(`authwatch telemetry: ${key}`);
  };
}

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  const config = readOtelConfig(opts.env);
  for (const w of config.warnings) console.error(`authwatch telemetry: ${w}`);
  const report = onceLogger();

  const resource = defaultResource().merge(
    resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName }),
  );
  const metrics = createMetricsPipeline(config, resource);
  const meter = metrics.provider.getMeter(METER_NAME);
  const auth = new AuthMetrics(meter, opts.gauges, (err) => report('gauge read failed', err));
  const httpMiddleware = createHttpMetrics(meter);
  const logs = createLogsPipeline(config, resource);

  const sink: Sink = {
    name: 'telemetry',
    write(events) {
      // A sink must never throw into the pipeline: the events are already durable.
      try {
        auth.record(events);
      } catch (err) {
        report('metrics update failed', err);
      }
      if (!logs) return;
      for (const event of events) {
        try {
          logs.logger.emit(toLogRecord(event));
        } catch (err) {
          report('log record failed', err);
        }
      }
    },
    async close() {
      await logs?.provider.forceFlush();
    },
  };

  let shutdownOnce: Promise<void> | undefined;
  return {
    sink,
    metricsHandler: metrics.metricsHandler,
    httpMiddleware,
    rejected: (count) => auth.rejected(count),
    shutdown() {
      // Flushes pending log records and pushes a last metrics export before exit.
      shutdownOnce ??= Promise.allSettled([logs?.provider.shutdown(), metrics.provider.shutdown()]).then(
        (results) => {
          for (const r of results) if (r.status === 'rejected') report('shutdown', r.reason);
        },
      );
      return shutdownOnce;
    },
  };
}
