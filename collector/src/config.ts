// Configuration from the environment and command line (flags win). Everything the collector reads
// is here, so docs/collector.md can list it.
import { isIP } from 'node:net';
import { KeyRing } from './auth/keys';

export interface Config {
  host: string;
  port: number;
  /** sqlite:./path.db or postgres://… */
  store: string;
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
  env: NodeJS.ProcessEnv;
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
  return {
    host,
    port,
    store,
    keys,
    hideDetails: truthy(env.AUTHWATCH_HIDE_DETAILS),
    sweepSeconds,
    sessionKey,
    ipTruncate: truthy(env.AUTHWATCH_IP_TRUNCATE),
    maxFutureMs: skew * 1000,
    env,
  };
}
