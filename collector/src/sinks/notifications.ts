// Notification sinks, configured from the environment (docs/enrichment.md "Notifications"):
//   AUTHWATCH_WEBHOOK_URL (+ AUTHWATCH_WEBHOOK_SECRET)           → signed JSON POSTs
//   AUTHWATCH_SMTP_URL + AUTHWATCH_NOTIFY_EMAIL_FROM (+ _TO)     → e-mail
// Which events notify: AUTHWATCH_NOTIFY_ON (per channel: AUTHWATCH_WEBHOOK_NOTIFY_ON,
// AUTHWATCH_EMAIL_NOTIFY_ON); throttling per user and kind: AUTHWATCH_NOTIFY_THROTTLE_SECONDS.
import { createLogger, type Logger } from '../log';
import type { Sink } from '../pipeline';
import { createEmailSink } from './email';
import { NotifyConfigError, parseNotifyOn, Throttle, throttleMsFromEnv } from './notify-rules';
import { createWebhookSink } from './webhook';

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new NotifyConfigError(`${name}=${raw}: expected an integer ≥ ${min}`);
  return n;
}

export function createNotificationSinks(env: NodeJS.ProcessEnv, log: Logger = createLogger()): Sink[] {
  const sinks: Sink[] = [];
  const throttleMs = throttleMsFromEnv(env);
  const defaultOn = env.AUTHWATCH_NOTIFY_ON;

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
    if (!secret) log.warn('AUTHWATCH_WEBHOOK_SECRET is not set: webhook deliveries are not signed');
    sinks.push(
      createWebhookSink({
        url,
        secret,
        notifyOn: parseNotifyOn(env.AUTHWATCH_WEBHOOK_NOTIFY_ON ?? defaultOn, 'AUTHWATCH_WEBHOOK_NOTIFY_ON'),
        throttle: new Throttle(throttleMs),
        maxAttempts: int(env, 'AUTHWATCH_WEBHOOK_MAX_ATTEMPTS', 5, 1),
        retryBaseMs: int(env, 'AUTHWATCH_WEBHOOK_RETRY_BASE_MS', 1000, 1),
        retryMaxMs: int(env, 'AUTHWATCH_WEBHOOK_RETRY_MAX_MS', 60_000, 1),
        timeoutMs: int(env, 'AUTHWATCH_WEBHOOK_TIMEOUT_MS', 10_000, 1),
        queueSize: int(env, 'AUTHWATCH_WEBHOOK_QUEUE_SIZE', 1000, 1),
        concurrency: int(env, 'AUTHWATCH_WEBHOOK_CONCURRENCY', 4, 1),
        log,
      }),
    );
  }

  const smtp = env.AUTHWATCH_SMTP_URL?.trim();
  if (smtp) {
    const from = env.AUTHWATCH_NOTIFY_EMAIL_FROM?.trim();
    if (!from) throw new NotifyConfigError('AUTHWATCH_SMTP_URL is set but AUTHWATCH_NOTIFY_EMAIL_FROM is not');
    sinks.push(
      createEmailSink({
        smtpUrl: smtp,
        from,
        to: (env.AUTHWATCH_NOTIFY_EMAIL_TO ?? '').split(',').map((s) => s.trim()).filter(Boolean),
        notifyOn: parseNotifyOn(env.AUTHWATCH_EMAIL_NOTIFY_ON ?? defaultOn, 'AUTHWATCH_EMAIL_NOTIFY_ON'),
        throttle: new Throttle(throttleMs),
        maxAttempts: int(env, 'AUTHWATCH_EMAIL_MAX_ATTEMPTS', 3, 1),
        retryBaseMs: int(env, 'AUTHWATCH_EMAIL_RETRY_BASE_MS', 5000, 1),
        queueSize: int(env, 'AUTHWATCH_EMAIL_QUEUE_SIZE', 1000, 1),
        log,
      }),
    );
  } else if (env.AUTHWATCH_NOTIFY_EMAIL_TO || env.AUTHWATCH_NOTIFY_EMAIL_FROM) {
    log.warn('AUTHWATCH_NOTIFY_EMAIL_* is set but AUTHWATCH_SMTP_URL is not: no e-mail will be sent');
  }
  return sinks;
}
