// E-mail notifications over SMTP (nodemailer): to the event's e-mail address when it has one (the
// user hears about their own account, like "notify me on successful / failed login"), otherwise to
// AUTHWATCH_NOTIFY_EMAIL_TO. Throttled per user and kind; sent from a bounded queue after the
// commit, never blocking ingest; a failed send is retried a few times, then given up and counted.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../log';
import type { Sink } from '../pipeline';
import type { StoredEvent } from '../schema/stored-event';
import { matchesRule, notificationEvent, summary, type NotificationEvent, Throttle, waitAtMost } from './notify-rules';

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
  attempt: number;
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
  const queue: Mail[] = [];
  const waiters: (() => void)[] = [];
  const s = { sent: 0, failed: 0, dropped: 0, no_recipient: 0 };
  let sending = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const pending = () => queue.length + (sending ? 1 : 0) + (retryTimer ? 1 : 0);
  const settle = () => {
    if (pending() === 0) for (const w of waiters.splice(0)) w();
  };

  async function drain(): Promise<void> {
    if (sending || retryTimer) return;
    sending = true;
    try {
      while (queue.length) {
        const m = queue[0];
        m.attempt++;
        try {
          await transport.sendMail({ from: o.from, to: m.to, subject: m.subject, text: m.text });
          s.sent++;
          queue.shift();
        } catch (err) {
          if (m.attempt >= o.maxAttempts || closed) {
            s.failed++;
            queue.shift();
            o.log.warn('notification e-mail given up', { attempts: m.attempt, error: String((err as Error).message ?? err) });
            continue;
          }
          // Back off (the SMTP server is down or throttling us), then resume in order.
          const delay = o.retryBaseMs * 2 ** (m.attempt - 1);
          retryTimer = setTimeout(() => {
            retryTimer = null;
            void drain();
          }, delay);
          return;
        }
      }
    } finally {
      sending = false;
      settle();
    }
  }

  return {
    name: 'email',
    write(events: readonly StoredEvent[]): void {
      if (closed) return;
      for (const e of events) {
        if (!matchesRule(o.notifyOn, e)) continue;
        const to = e.email ? [e.email] : o.to;
        if (to.length === 0) {
          s.no_recipient++;
          continue;
        }
        const n = notificationEvent(e);
        if (!o.throttle.take(e.user, n.kind, clock())) continue;
        if (pending() >= o.queueSize) {
          s.dropped++;
          continue;
        }
        queue.push({ to, subject: `[Authwatch] ${summary(n)}`, text: mailText(n), attempt: 0 });
      }
      void drain();
    },
    stats: () => ({ ...s, throttled: o.throttle.throttled, queued: pending() }),
    idle: () => (pending() === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
    async close(): Promise<void> {
      closed = true;
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = null;
        s.failed += queue.length;
        queue.length = 0;
      }
      // Shutdown waits for the mail being sent and the queue, but not for ever.
      if (pending() > 0) await waitAtMost(new Promise<void>((r) => waiters.push(r)), o.closeTimeoutMs ?? 15_000);
      s.dropped += queue.length;
      queue.length = 0;
      transport.close();
    },
  };
}
