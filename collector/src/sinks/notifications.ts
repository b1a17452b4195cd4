// Notification sinks: parseNotificationsConfig reads the environment once (config.ts calls it),
// createNotificationSinks builds the sinks (docs/enrichment.md "Notifications"):
//   AUTHWATCH_WEBHOOK_URL (+ AUTHWATCH_WEBHOOK_SECRET)           → signed JSON POSTs
//   AUTHWATCH_SMTP_URL + AUTHWATCH_NOTIFY_EMAIL_FROM (+ _TO)     → e-mail
// Which events notify: AUTHWATCH_NOTIFY_ON (per channel: AUTHWATCH_WEBHOOK_NOTIFY_ON,
// AUTHWATCH_EMAIL_NOTIFY_ON); throttling per user and kind: AUTHWATCH_NOTIFY_THROTTLE_SECONDS.
import { createLogger, type Logger } from '../log';
import type { Sink } from '../pipeline/contracts';
import { createEmailSink, type EmailOptions } from './email';
import { NotifyConfigError, parseNotifyOn, Throttle, throttleMsFromEnv } from './notify-rules';
import { createWebhookSink, type WebhookOptions } from './webhook';

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new NotifyConfigError(`${name}=${raw}: expected an integer ≥ ${min}`);
  return n;
}

type WebhookSettings = Omit<WebhookOptions, 'throttle' | 'log' | 'clock'>;
type EmailSettings = Omit<EmailOptions, 'throttle' | 'log' | 'clock'>;

export interface NotificationsConfig {
  webhook: WebhookSettings | null;
  email: EmailSettings | null;
  throttleMs: number;
  /** Said once at start (an unsigned webhook, e-mail settings without a server). */
  warnings: string[];
}

/** Reads and checks every AUTHWATCH_WEBHOOK_*, AUTHWATCH_SMTP_URL, AUTHWATCH_NOTIFY_* variable. */
export function parseNotificationsConfig(env: NodeJS.ProcessEnv): NotificationsConfig {
  const warnings: string[] = [];
  const defaultOn = env.AUTHWATCH_NOTIFY_ON;
  let webhook: WebhookSettings | null = null;
  const url = env.AUTHWATCH_WEBHOOK_URL?.trim();
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new NotifyConfigError(`AUTHWATCH_WEBHOOK_URL=${url}: not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new NotifyConfigError('AUTHWATCH_WEBHOOK_URL must be an http:// or https:// URL');
    }
    const secret = env.AUTHWATCH_WEBHOOK_SECRET || null;
    if (!secret) warnings.push('AUTHWATCH_WEBHOOK_SECRET is not set: webhook deliveries are not signed');
    webhook = {
      url,
      secret,
      notifyOn: parseNotifyOn(env.AUTHWATCH_WEBHOOK_NOTIFY_ON ?? defaultOn, 'AUTHWATCH_WEBHOOK_NOTIFY_ON'),
      maxAttempts: int(env, 'AUTHWATCH_WEBHOOK_MAX_ATTEMPTS', 5, 1),
      retryBaseMs: int(env, 'AUTHWATCH_WEBHOOK_RETRY_BASE_MS', 1000, 1),
      retryMaxMs: int(env, 'AUTHWATCH_WEBHOOK_RETRY_MAX_MS', 60_000, 1),
      timeoutMs: int(env, 'AUTHWATCH_WEBHOOK_TIMEOUT_MS', 10_000, 1),
      queueSize: int(env, 'AUTHWATCH_WEBHOOK_QUEUE_SIZE', 1000, 1),
      concurrency: int(env, 'AUTHWATCH_WEBHOOK_CONCURRENCY', 4, 1),
    };
  }
  let email: EmailSettings | null = null;
  const smtp = env.AUTHWATCH_SMTP_URL?.trim();
  if (smtp) {
    const from = env.AUTHWATCH_NOTIFY_EMAIL_FROM?.trim();
    if (!from) throw new NotifyConfigError('AUTHWATCH_SMTP_URL is set but AUTHWATCH_NOTIFY_EMAIL_FROM is not');
    email = {
      smtpUrl: smtp,
      from,
      to: (env.AUTHWATCH_NOTIFY_EMAIL_TO ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      notifyOn: parseNotifyOn(env.AUTHWATCH_EMAIL_NOTIFY_ON ?? defaultOn, 'AUTHWATCH_EMAIL_NOTIFY_ON'),
      maxAttempts: int(env, 'AUTHWATCH_EMAIL_MAX_ATTEMPTS', 3, 1),
      retryBaseMs: int(env, 'AUTHWATCH_EMAIL_RETRY_BASE_MS', 5000, 1),
      queueSize: int(env, 'AUTHWATCH_EMAIL_QUEUE_SIZE', 1000, 1),
    };
  } else if (env.AUTHWATCH_NOTIFY_EMAIL_TO || env.AUTHWATCH_NOTIFY_EMAIL_FROM) {
    warnings.push('AUTHWATCH_NOTIFY_EMAIL_* is set but AUTHWATCH_SMTP_URL is not: no e-mail will be sent');
  }
  return { webhook, email, throttleMs: throttleMsFromEnv(env), warnings };
}

export function createNotificationSinks(config: NotificationsConfig, log: Logger = createLogger()): Sink[] {
  for (const w of config.warnings) log.warn(w);
  const sinks: Sink[] = [];
  if (config.webhook) sinks.push(createWebhookSink({ ...config.webhook, throttle: new Throttle(config.throttleMs), log }));
  if (config.email) sinks.push(createEmailSink({ ...config.email, throttle: new Throttle(config.throttleMs), log }));
  return sinks;
}
