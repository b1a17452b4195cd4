// The telemetry sink: one OpenTelemetry log record per stored event and the authentication
// metrics (authwatch_login_attempts_total, _lockouts_total, _events_ingested_total,
// _detections_total, the session and lock gauges) of committed events. Its configuration is the
// standard OTEL_* variables (otel-config.ts, docs/telemetry.md). The MeterProvider, GET /metrics and
// the collector's own telemetry (HTTP metrics, rejected events) are in telemetry/.
import type { Meter } from '@opentelemetry/api';
import type { Sink } from '../pipeline/contracts';
import type { StoredEvent } from '../schema/stored-event';
import { AuthMetrics, type GaugeSource } from './metrics-auth';
import { metricServices } from './metrics-labels';
import { readOtelConfig, type OtelConfig } from './otel-config';
import { toLogRecord } from './otel-log-record';
import type { LogsPipeline } from './otel-logs';
import { SlicedWork } from './sliced';

// The composition (telemetry/index.ts) owns this type; re-exported for the route context.

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

// Default bound for the final flush and for shutdown: two of these stay under docker stop's 10 s
// grace period. AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS changes it.
const DEFAULT_FLUSH_TIMEOUT_MS = 4000;

function flushTimeout(env: NodeJS.ProcessEnv): number {
  const n = Number(env.AUTHWATCH_TELEMETRY_FLUSH_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_FLUSH_TIMEOUT_MS;
}

/**
 * Waits for `work`, but at most `ms`: an unreachable OTLP backend (the exporter retries for up to
 * 30 s) must not hold up the collector's shutdown.
 */
export async function settleWithin(ms: number, work: Promise<void>, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  const result = await Promise.race([work, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') onTimeout();
}

export interface TelemetrySinkOptions {
  meter: Meter;
  /** null when no log exporter is configured (no per-event log work). */
  logs: LogsPipeline | null;
  /** Read from the store so gauges are true after a restart. */
  gauges: GaugeSource;
  metricServices: readonly string[] | null;
  flushMs: number;
  /** Throttled problem report (a sink must not throw and must not flood stderr). */
  report: (what: string, err: unknown) => void;
}

export function createTelemetrySink(o: TelemetrySinkOptions): Sink {
  const { logs, report, flushMs } = o;
  const auth = new AuthMetrics(o.meter, o.gauges, (err) => report('gauge read failed', err), o.metricServices);
  const records = logs
    ? new SlicedWork<StoredEvent>((event) => {
        try {
          logs.logger.emit(toLogRecord(event));
        } catch (err) {
          report('log record failed', err);
        }
      })
    : null;
  return {
    name: 'telemetry',
    write(events) {
      // A sink must never throw into the pipeline: the events are already durable.
      try {
        auth.record(events);
      } catch (err) {
        report('metrics update failed', err);
      }
      // One log record per event, a slice at a time (sliced.ts): /v1/check is answered in between.
      records?.push(events);
    },
    close() {
      if (!logs) return Promise.resolve();
      const flushed = (async () => {
        await records!.idle();
        await logs.provider.forceFlush();
      })();
      return settleWithin(
        flushMs,
        flushed.catch((err: unknown) => report('flush', err)),
        () => report('flush', new Error(`log records not flushed after ${flushMs} ms; giving up`)),
      );
    },
  };
}
