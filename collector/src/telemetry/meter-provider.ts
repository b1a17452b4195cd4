// The OTel MeterProvider with its readers: the Prometheus pull reader behind GET /metrics (always,
// it is part of the wire contract) and, when configured, a periodic OTLP/HTTP or console push.
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { RequestHandler } from 'express';
import type { OtelConfig } from '../sinks/otel-config';

export interface MetricsPipeline {
  provider: MeterProvider;
  metricsHandler: RequestHandler;
}

export function createMetricsPipeline(
  config: OtelConfig,
  resource: Resource,
  report: (what: string, err: unknown) => void,
): MetricsPipeline {
  // No own server (the collector's express app serves /metrics), no otel_scope_* labels and no
  // target_info family: the exposition holds exactly the authwatch_* families.
  const prometheus = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    withoutTargetInfo: true,
  });
  const serializer = new PrometheusSerializer('', false, undefined, true, true);

  const readers: IMetricReader[] = [prometheus];
  if (!config.disabled) {
    const interval = config.metrics.intervalMillis;
    // The SDK refuses a timeout longer than the interval.
    const timeout = Math.min(config.metrics.timeoutMillis, interval);
    if (config.metrics.otlp) {
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: config.metrics.otlp.url, headers: config.metrics.otlp.headers }),
          exportIntervalMillis: interval,
          exportTimeoutMillis: timeout,
        }),
      );
    }
    if (config.metrics.console) {
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: new ConsoleMetricExporter(),
          exportIntervalMillis: interval,
          exportTimeoutMillis: timeout,
        }),
      );
    }
  }
  const provider = new MeterProvider({ resource, readers });

  const metricsHandler: RequestHandler = async (_req, res) => {
    try {
      const { resourceMetrics, errors } = await prometheus.collect();
      for (const err of errors) report('metric collection error', err);
      res
        .status(200)
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(serializer.serialize(resourceMetrics));
    } catch (err) {
      report('/metrics failed', err);
      res.status(500).type('text/plain').send('# metrics collection failed\n');
    }
  };
  return { provider, metricsHandler };
}
