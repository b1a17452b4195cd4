// Reads the standard OTEL_* environment variables into one plain object, so the rest of the
// telemetry code (and its tests) never reads the environment itself.
// Spec: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';

export const DEFAULT_SERVICE_NAME = 'authwatch-collector';

export type ExporterKind = 'otlp' | 'console';

export interface OtlpTarget {
  url: string;
  headers: Record<string, string>;
}

export interface SignalConfig {
  /** Where OTLP/HTTP export goes; null = no OTLP export for this signal. */
  otlp: OtlpTarget | null;
  console: boolean;
}

/** OTEL_BLRP_* (the SDK no longer reads them itself). */
export interface BatchConfig {
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
}

/**
 * The spec's queue default (2048) is smaller than one ingest batch (up to 10,000 events); records
 * that do not fit are dropped, so we default to room for two full batches.
 */
export const DEFAULT_LOG_QUEUE_SIZE = 20480;

export interface OtelConfig {
  /** OTEL_SDK_DISABLED=true: no log records, no pushed metrics (GET /metrics keeps working). */
  disabled: boolean;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  logs: SignalConfig & { batch: BatchConfig };
  metrics: SignalConfig & { intervalMillis: number; timeoutMillis: number };
  /** Problems worth one line on stderr at startup (unknown exporter names, bad URLs…). */
  warnings: string[];
}

type Env = NodeJS.ProcessEnv;

function nonEmpty(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** OTEL_LOGS_EXPORTER / OTEL_METRICS_EXPORTER: comma list of otlp|console|none (+ prometheus for metrics). */
function exporterList(env: Env, name: string, allowed: readonly string[], warnings: string[]): Set<string> | null {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return null; // not set: caller applies its default
  const out = new Set<string>();
  for (const part of raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (allowed.includes(part)) out.add(part);
    else warnings.push(`${name}: unsupported exporter "${part}" ignored (supported: ${allowed.join(', ')})`);
  }
  return out;
}

/** Signal endpoint: the signal-specific URL as given, else the base endpoint + /v1/<signal>. */
function endpoint(env: Env, signal: 'LOGS' | 'METRICS', warnings: string[]): string | undefined {
  const specific = nonEmpty(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  const base = nonEmpty(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const url = specific ?? (base ? `${base.replace(/\/+$/, '')}/v1/${signal.toLowerCase()}` : undefined);
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
    return parsed.toString();
  } catch {
    warnings.push(`OTLP ${signal.toLowerCase()} endpoint "${url}" is not an http(s) URL; OTLP ${signal.toLowerCase()} export is off`);
    return undefined;
  }
}

/** Headers: the base list, overridden key by key by the signal-specific one (as the spec says). */
function headers(env: Env, signal: 'LOGS' | 'METRICS'): Record<string, string> {
  return {
    ...parseKeyPairsIntoRecord(nonEmpty(env, 'OTEL_EXPORTER_OTLP_HEADERS')),
    ...parseKeyPairsIntoRecord(nonEmpty(env, `OTEL_EXPORTER_OTLP_${signal}_HEADERS`)),
  };
}

function positiveInt(env: Env, name: string, fallback: number, warnings: string[]): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n > 0) return n;
  warnings.push(`${name}="${raw}" is not a positive integer; using ${fallback}`);
  return fallback;
}

function signalConfig(
  env: Env,
  signal: 'LOGS' | 'METRICS',
  allowed: readonly string[],
  warnings: string[],
): SignalConfig {
  const list = exporterList(env, `OTEL_${signal}_EXPORTER`, allowed, warnings);
  const url = endpoint(env, signal, warnings);
  // Default (variable unset) is "otlp", but we only export when an endpoint is configured: a
  // collector with no OTLP backend must not spam connection errors to localhost:4318.
  // An explicit "otlp" without an endpoint uses the spec's default endpoint.
  const wantsOtlp = list === null ? url !== undefined : list.has('otlp') && !list.has('none');
  const target = wantsOtlp ? (url ?? `http://localhost:4318/v1/${signal.toLowerCase()}`) : undefined;
  return {
    otlp: target ? { url: target, headers: headers(env, signal) } : null,
    console: list !== null && list.has('console') && !list.has('none'),
  };
}

export function readOtelConfig(env: Env): OtelConfig {
  const warnings: string[] = [];
  const protocol = nonEmpty(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol && protocol !== 'http/json') {
    warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL="${protocol}": this collector exports OTLP over http/json`);
  }
  const resourceAttributes = parseKeyPairsIntoRecord(nonEmpty(env, 'OTEL_RESOURCE_ATTRIBUTES'));
  const serviceName =
    nonEmpty(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? DEFAULT_SERVICE_NAME;
  return {
    disabled: nonEmpty(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true',
    serviceName,
    resourceAttributes,
    logs: {
      ...signalConfig(env, 'LOGS', ['otlp', 'console', 'none'], warnings),
      batch: {
        scheduledDelayMillis: positiveInt(env, 'OTEL_BLRP_SCHEDULE_DELAY', 1000, warnings),
        exportTimeoutMillis: positiveInt(env, 'OTEL_BLRP_EXPORT_TIMEOUT', 30000, warnings),
        maxQueueSize: positiveInt(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', DEFAULT_LOG_QUEUE_SIZE, warnings),
        maxExportBatchSize: positiveInt(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 1024, warnings),
      },
    },
    metrics: {
      // "prometheus" is accepted and means what GET /metrics always does.
      ...signalConfig(env, 'METRICS', ['otlp', 'console', 'none', 'prometheus'], warnings),
      intervalMillis: positiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60000, warnings),
      timeoutMillis: positiveInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30000, warnings),
    },
    warnings,
  };
}
