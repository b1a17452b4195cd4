// E-mail notifications over SMTP (nodemailer): to the event's e-mail address when it has one (the
// user hears about their own account, like "notify me on successful / failed login"), otherwise to
// AUTHWATCH_NOTIFY_EMAIL_TO. Throttled per user and kind; sent from a bounded queue after the
// commit, never blocking ingest; a failed send is retried a few times, then given up and counted.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../log';
import type { Sink } from '../pipeline/contracts';
import type { StoredEvent } from '../schema/stored-event';
import { matchesRule, notificationEvent, summary, type NotificationEvent, Throttle } from './notify-rules';
import { createSenderQueue, type SendResult } from './sender-queue';

export interface EmailOptions {
  smtpUrl: string;
  from: string;
  /** Fallback recipients when the event has no e-mail (IP-centred detections, lockouts…). */
  to: string[];
  notifyOn: ReadonlySet<string>;
  throttle: Throttle;
  maxAttempts: number;
  retryBaseMs: number;
  queueSize: number;
  log: Logger;
  clock?: () => number;
  /** How long close() waits for queued mail (default 15 s). */
  closeTimeoutMs?: number;
}

export interface EmailStats {
  sent: number;
  failed: number;
  dropped: number;
  throttled: number;
  /** Notifying events with neither an event e-mail nor AUTHWATCH_NOTIFY_EMAIL_TO. */
  no_recipient: number;
  queued: number;
}

export interface EmailSink extends Sink {
  stats(): EmailStats;
  idle(): Promise<void>;
}

interface Mail {
  to: string[];
  subject: string;
  text: string;
}

const LABELS: [keyof NotificationEvent, string][] = [
  ['time', 'Time'],
  ['user', 'User'],
  ['service', 'Service'],
  ['ip', 'IP address'],
  ['city', 'City'],
  ['country', 'Country'],
  ['isp', 'Network'],
  ['browser', 'Browser'],
  ['os', 'Operating system'],
  ['device_type', 'Device'],
  ['reason', 'Reason'],
];

export function mailText(n: NotificationEvent): string {
  const lines = [summary(n) + '.', ''];
  for (const [key, label] of LABELS) {
    const v = n[key];
    if (v !== null && v !== undefined && v !== '') lines.push(`${label}: ${String(v)}`);
  }
  if (n.asn !== null) lines.push(`ASN: AS${n.asn}`);
  if (n.attributes) {
    const evidence = Object.entries(n.attributes).filter(([k]) => k !== 'trigger_event_id');
    if (evidence.length) {
      lines.push('', 'Details:');
      for (const [k, v] of evidence) lines.push(`  ${k}: ${String(v)}`);
    }
  }
  lines.push('', 'If this was not you, change your password and contact your administrator.', `Event id: ${n.id}`);
  return lines.join('\n') + '\n';
}

export function createEmailSink(o: EmailOptions): EmailSink {
  const clock = o.clock ?? Date.now;
  // nodemailer's defaults wait minutes on a silent server; notifications are not worth that.
  const transport: Transporter = nodemailer.createTransport(o.smtpUrl, {
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const s = { no_recipient: 0 };
  const queue = createSenderQueue<Mail>({
    name: 'notification e-mail',
    maxAttempts: o.maxAttempts,
    retryBaseMs: o.retryBaseMs,
    retryMaxMs: o.retryBaseMs * 2 ** 10,
    queueSize: o.queueSize,
    concurrency: 1,
    // One SMTP server: while it is down or throttling us, wait, then resume in order.
    ordered: true,
    log: o.log,
    async send(m): Promise<SendResult> {
      try {
        await transport.sendMail({ from: o.from, to: m.to, subject: m.subject, text: m.text });
        return { ok: true };
      } catch (err) {
        return { ok: false, retry: true, error: String((err as Error).message ?? err) };
      }
    },
  });

  return {
    name: 'email',
    write(events: readonly StoredEvent[]): void {
      for (const e of events) {
        if (!matchesRule(o.notifyOn, e)) continue;
        const to = e.email ? [e.email] : o.to;
        if (to.length === 0) {
          s.no_recipient++;
          continue;
        }
        const n = notificationEvent(e);
        if (!o.throttle.take(e.user, n.kind, clock())) continue;
        queue.enqueue({ to, subject: `[Authwatch] ${summary(n)}`, text: mailText(n) });
      }
    },
    stats: () => {
      const q = queue.stats();
      return { sent: q.delivered, failed: q.failed, dropped: q.dropped, queued: q.queued, throttled: o.throttle.throttled, no_recipient: s.no_recipient };
    },
    idle: () => queue.idle(),
    async close(): Promise<void> {
      // Shutdown waits for the mail being sent and the queue, but not for ever.
      await queue.close(o.closeTimeoutMs ?? 15_000);
      transport.close();
    },
  };
}
