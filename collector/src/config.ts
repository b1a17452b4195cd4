// Configuration from the environment and command line (flags win), read and checked once at start
// and frozen. Each component owns its part (defaults, parsing, validation) and exports a parse
// function; this module composes them, and nothing else reads the environment. docs/collector.md
// lists every variable; `authwatch serve --print-config` shows the result with secrets redacted.
import { isIP } from 'node:net';
import { KeyRing } from './auth/keys';
import { parseDetectionConfig, type DetectionConfig } from './processors/detections/config';
import { parseEnrichConfig, type EnrichConfig } from './enrichers';
import { parseNotificationsConfig, type NotificationsConfig } from './sinks/notifications';
import { parseTelemetryConfig, type TelemetryConfig } from './sinks/telemetry';
import { parseStoreConfig, type StoreConfig } from './store/open';
import { parseRetentionConfig, type RetentionConfig } from './store/retention';

export interface Config {
  host: string;
  port: number;
  /** sqlite:./path.db or postgres://… */
  store: string;
  /** The store URL with its engine settings. */
  storage: StoreConfig;
  keys: KeyRing;
  /** Hide ip/isp/asn/city/country/lat/long from read-role keys. */
  hideDetails: boolean;
  /** Idle-session sweep interval, seconds. */
  sweepSeconds: number;
  /** HMAC key for session ids; generated and persisted in the store when absent. */
  sessionKey: string | undefined;
  /** AUTHWATCH_IP_TRUNCATE: addresses stored as /24 (IPv4) and /48 (IPv6); lockout keys follow. */
  ipTruncate: boolean;
  /** AUTHWATCH_MAX_CLOCK_SKEW_SECONDS: how far ahead of the collector's clock an event time may be. */
  maxFutureMs: number;
  enrich: EnrichConfig;
  detections: DetectionConfig;
  notifications: NotificationsConfig;
  telemetry: TelemetryConfig;
  retention: RetentionConfig;
}

export class ConfigError extends Error {}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const host = flag(argv, 'host') ?? env.AUTHWATCH_HOST ?? '127.0.0.1';
  const portText = flag(argv, 'port') ?? env.AUTHWATCH_PORT ?? '4600';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port "${portText}" is not a TCP port (0-65535)`);
  const store = flag(argv, 'store') ?? env.AUTHWATCH_STORE ?? 'sqlite:./data/authwatch.db';
  const sweepText = env.AUTHWATCH_SWEEP_SECONDS ?? '30';
  const sweepSeconds = Number(sweepText);
  if (!(sweepSeconds > 0)) throw new ConfigError(`AUTHWATCH_SWEEP_SECONDS "${sweepText}" must be a positive number`);
  const keys = KeyRing.fromEnv(env);
  if (keys.empty && !isLoopback(host)) {
    throw new ConfigError(
      `refusing to listen on ${host} without API keys: set AUTHWATCH_INGEST_KEYS / AUTHWATCH_READ_KEYS / AUTHWATCH_ADMIN_KEYS, or listen on 127.0.0.1`,
    );
  }
  const sessionKey = env.AUTHWATCH_SESSION_KEY || undefined;
  if (sessionKey !== undefined && sessionKey.length < 16) throw new ConfigError('AUTHWATCH_SESSION_KEY must be at least 16 characters');
  const skewText = env.AUTHWATCH_MAX_CLOCK_SKEW_SECONDS ?? '300';
  const skew = Number(skewText);
  if (!Number.isInteger(skew) || skew < 0 || skew > 86400) throw new ConfigError(`AUTHWATCH_MAX_CLOCK_SKEW_SECONDS "${skewText}" must be a whole number of seconds from 0 to 86400`);
  const enrich = parseEnrichConfig(env);
  return deepFreeze({
    host,
    port,
    store,
    storage: parseStoreConfig(store, env),
    keys,
    hideDetails: truthy(env.AUTHWATCH_HIDE_DETAILS),
    sweepSeconds,
    sessionKey,
    ipTruncate: enrich.ipTruncate,
    maxFutureMs: skew * 1000,
    enrich,
    detections: parseDetectionConfig(env),
    notifications: parseNotificationsConfig(env),
    telemetry: parseTelemetryConfig(env),
    retention: parseRetentionConfig(env),
  });
}

/** Freezes plain objects and arrays all the way down (Sets, Maps and class instances stay as they are). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const SECRET = '[redacted]';

/** The effective configuration as JSON-ready data, secrets replaced (for --print-config). */
export function redactedConfig(c: Config): unknown {
  const url = (u: string) => {
    try {
      const parsed = new URL(u);
      if (parsed.password) parsed.password = 'redacted';
      return parsed.toString();
    } catch {
      return SECRET;
    }
  };
  // A webhook URL is often the secret itself (its path or query carries a token).
  const origin = (u: string) => {
    try {
      return `${new URL(u).origin}/${SECRET}`;
    } catch {
      return SECRET;
    }
  };
  const otelSignal = (sig: { otlp: { url: string; headers: Record<string, string> } | null; console: boolean }) => ({
    ...sig,
    otlp: sig.otlp ? { url: sig.otlp.url, headers: Object.fromEntries(Object.keys(sig.otlp.headers).map((k) => [k, SECRET])) } : null,
  });
  return {
    ...c,
    store: url(c.store),
    storage: { ...c.storage, url: url(c.storage.url) },
    keys: c.keys.keys.map((k) => ({ name: k.name, role: k.role, secret: SECRET })),
    sessionKey: c.sessionKey === undefined ? null : SECRET,
    detections: { ...c.detections, kinds: [...c.detections.kinds] },
    notifications: {
      ...c.notifications,
      webhook: c.notifications.webhook ? { ...c.notifications.webhook, url: origin(c.notifications.webhook.url), secret: c.notifications.webhook.secret ? SECRET : null, notifyOn: [...c.notifications.webhook.notifyOn] } : null,
      email: c.notifications.email ? { ...c.notifications.email, smtpUrl: url(c.notifications.email.smtpUrl), notifyOn: [...c.notifications.email.notifyOn] } : null,
    },
    telemetry: { ...c.telemetry, otel: { ...c.telemetry.otel, logs: otelSignal(c.telemetry.otel.logs), metrics: otelSignal(c.telemetry.otel.metrics) } },
  };
}
