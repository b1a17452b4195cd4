// The OTel LoggerProvider: OTLP/HTTP export (batched) when an endpoint is configured, console when
// asked. Without any exporter there is no provider at all, so the sink does no per-event work.
import type { Logger } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  ConsoleLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import type { OtelConfig } from './otel-config';

export const LOGGER_NAME = '@authwatch/collector';

export interface LogsPipeline {
  provider: LoggerProvider;
  logger: Logger;
}

export function createLogsPipeline(config: OtelConfig, resource: Resource): LogsPipeline | null {
  if (config.disabled) return null;
  const processors: LogRecordProcessor[] = [];
  if (config.logs.otlp) {
    // sdk-logs 0.223 takes an options object; a bare exporter is accepted by JS and drops records.
    processors.push(
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: config.logs.otlp.url, headers: config.logs.otlp.headers }),
        ...config.logs.batch,
      }),
    );
  }
  if (config.logs.console) {
    processors.push(new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() }));
  }
  if (processors.length === 0) return null;
  const provider = new LoggerProvider({
    resource,
    processors,
    logRecordLimits: { attributeValueLengthLimit: 4096, attributeCountLimit: 128 },
  });
  return { provider, logger: provider.getLogger(LOGGER_NAME) };
}
