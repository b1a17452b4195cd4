// Telemetry out: one OpenTelemetry log record per stored event, the authwatch_* metrics (GET
// /metrics for Prometheus, OTLP push when configured) and the HTTP request duration histogram.
// Configured by the standard OTEL_* variables (see otel-config.ts and docs/telemetry.md).
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Sink } from '../pipeline/contracts';
import type { RequestHandler } from 'express';
import { AuthMetrics, type GaugeSource } from './metrics-auth';
import { createHttpMetrics } from './metrics-http';
import { metricServices } from './metrics-labels';
import { createMetricsPipeline } from './metrics-provider';
import { readOtelConfig, type OtelConfig } from './otel-config';
import { toLogRecord } from './otel-log-record';
import { createLogsPipeline } from './otel-logs';

export interface TelemetryConfig {
  otel: OtelConfig;
  /** Bound for the final flush and for shutdown (AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS). */
  flushMs: number;
  /** service label values (AUTHWATCH_METRIC_SERVICES), null: the safe pattern with a cap. */
  metricServices: readonly string[] | null;
}

/** Reads OTEL_*, AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS and AUTHWATCH_METRIC_SERVICES. */
export function parseTelemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig {
  return { otel: readOtelConfig(env), flushMs: flushTimeout(env), metricServices: metricServices(env) };
}

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
  /** Events refused by validation (authwatch_events_rejected_total). */
  rejected(count: number): void;
  shutdown(): Promise<void>;
}

const METER_NAME = '@authwatch/collector';
// Default bound for the final flush and for shutdown: two of these stay under docker stop's 10 s
// grace period. AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS changes it.
const DEFAULT_FLUSH_TIMEOUT_MS = 4000;

function flushTimeout(env: NodeJS.ProcessEnv): number {
  const n = Number(env.AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_FLUSH_TIMEOUT_MS;
}

const REPEAT_AFTER_MS = 5 * 60_000;

/**
 * Waits for `work`, but at most `ms`: an unreachable OTLP backend (the exporter retries for up to
 * 30 s) must not hold up the collector's shutdown.
 */
async function settleWithin(ms: number, work: Promise<void>, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  const result = await Promise.race([work, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') onTimeout();
}

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
  const auth = new AuthMetrics(meter, opts.gauges, (err) => report('gauge read failed', err), opts.config.metricServices);
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
    close() {
      if (!logs) return Promise.resolve();
      return settleWithin(
        flushMs,
        logs.provider.forceFlush().catch((err: unknown) => report('flush', err)),
        () => report('flush', new Error(`log records not flushed after ${flushMs} ms; giving up`)),
      );
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
