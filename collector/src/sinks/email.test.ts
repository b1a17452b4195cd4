// E-mail sink against a real SMTP server (smtp-server) started by the test: the right recipient,
// subject and body, per-kind rules, per-user throttling, and retry/give-up when the server refuses.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { blankEvent, type StoredEvent } from '../schema/stored-event';
import type { EmailSink } from './email';
import { createNotificationSinks, parseNotificationsConfig } from './notifications';

/** The sinks as the collector builds them from these variables. */
const notificationSinks = (env: NodeJS.ProcessEnv) => createNotificationSinks(parseNotificationsConfig(env));

interface Message {
  from: string;
  to: string[];
  raw: string;
}

let smtp: SMTPServer;
let port: number;
let messages: Message[];
let refuse: number;

beforeEach(async () => {
  messages = [];
  refuse = 0;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuse > 0) {
          refuse--;
          const err = new Error('try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          return callback(err);
        }
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  port = (smtp.server.address() as AddressInfo).port;
});
afterEach(async () => {
  await new Promise<void>((r) => smtp.close(() => r()));
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    AUTHWATCH_SMTP_URL: `smtp://127.0.0.1:${port}`,
    AUTHWATCH_NOTIFY_EMAIL_FROM: 'authwatch@example.org',
    AUTHWATCH_NOTIFY_EMAIL_TO: 'secops@example.org',
    ...extra,
  };
}

/** Header value and decoded text body of a raw message (nodemailer uses quoted-printable for text). */
function header(raw: string, name: string): string {
  const m = new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, 'mi').exec(raw);
  return m ? m[1].replace(/\r\n[ \t]/g, ' ') : '';
}
function bodyText(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return /quoted-printable/i.test(raw)
    ? body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    : body;
}

const T = Date.UTC(2026, 2, 2, 10, 0, 0);
const login = (user: string, outcome: 'success' | 'failure', extra: Partial<StoredEvent> = {}): StoredEvent =>
  blankEvent({
    id: `l-${user}-${Math.random()}`,
    time: T,
    type: 'login',
    user,
    outcome,
    reason: outcome === 'failure' ? 'invalid_password' : null,
    email: `${user}@example.com`,
    ip: '81.2.69.142',
    country: 'GB',
    city: 'London',
    isp: 'Andrews & Arnold Ltd',
    asn: 20712,
    browser: 'Chrome',
    os: 'Windows',
    device_type: 'desktop',
    service: 'portal',
    session_id: 'f'.repeat(64),
    ...extra,
  });

test('a failed login notifies the user by mail with what happened and from where; successes only when asked', async () => {
  const [sink] = notificationSinks(env({ AUTHWATCH_NOTIFY_ON: 'login_failure' })) as EmailSink[];
  sink.write([login('alice', 'failure'), login('bob', 'success')]);
  await sink.idle();
  await sink.close();

  expect(messages).toHaveLength(1);
  const [m] = messages;
  expect(m.from).toBe('authwatch@example.org');
  expect(m.to).toEqual(['alice@example.com']);
  expect(header(m.raw, 'Subject')).toBe('[Authwatch] Failed login for alice to portal from 81.2.69.142 (London, GB) using Chrome on Windows (invalid_password)');
  const text = bodyText(m.raw);
  expect(text).toContain('IP address: 81.2.69.142');
  expect(text).toContain('Country: GB');
  expect(text).toContain('Network: Andrews & Arnold Ltd');
  expect(text).toContain('ASN: AS20712');
  expect(text).toContain('Operating system: Windows');
  expect(text).not.toContain('f'.repeat(64)); // never the session id
});

test('IP-centred detections (no user e-mail) go to AUTHWATCH_NOTIFY_EMAIL_TO with the evidence', async () => {
  const [sink] = notificationSinks(env()) as EmailSink[];
  const spray = blankEvent({
    id: 'det-1',
    time: T,
    type: 'detection',
    reason: 'password_spray',
    user: 'emp10',
    ip: '203.0.113.50',
    attributes: { distinct_users: 11, failures: 11, window_seconds: 1800, trigger_event_id: 'x' },
  });
  sink.write([spray, login('carol', 'success')]); // default rules: detections and lockouts, not plain logins
  await sink.idle();
  await sink.close();
  expect(messages).toHaveLength(1);
  expect(messages[0].to).toEqual(['secops@example.org']);
  expect(header(messages[0].raw, 'Subject')).toBe('[Authwatch] Password spray from 203.0.113.50: 11 accounts failing');
  expect(bodyText(messages[0].raw)).toMatch(/distinct_users: 11\r?\n\s+failures: 11\r?\n\s+window_seconds: 1800/);
});

test('throttling: one mail per user and kind per window, across batches', async () => {
  const [sink] = notificationSinks(env({ AUTHWATCH_NOTIFY_ON: 'login_failure,login_success', AUTHWATCH_NOTIFY_THROTTLE_SECONDS: '600' })) as EmailSink[];
  sink.write([login('dave', 'failure'), login('dave', 'failure'), login('dave', 'success')]);
  sink.write([login('dave', 'failure'), login('erin', 'failure')]);
  await sink.idle();
  expect(messages.map((m) => `${m.to[0]} ${header(m.raw, 'Subject').split(' ')[1]}`).sort()).toEqual([
    'dave@example.com Failed',
    'dave@example.com Successful',
    'erin@example.com Failed',
  ]);
  expect(sink.stats()).toMatchObject({ sent: 3, throttled: 2 });
  await sink.close();
});

test('a refusing server is retried; after the last attempt the mail is given up and counted', async () => {
  refuse = 1;
  const [sink] = notificationSinks(env({ AUTHWATCH_NOTIFY_ON: 'lockout', AUTHWATCH_EMAIL_RETRY_BASE_MS: '10', AUTHWATCH_EMAIL_MAX_ATTEMPTS: '2' })) as EmailSink[];
  const lockout = (user: string) => blankEvent({ id: `lk-${user}`, time: T, type: 'lockout', reason: 'too_many_failures', user, email: `${user}@example.com` });
  sink.write([lockout('fred')]);
  await sink.idle();
  expect(messages.map((m) => m.to[0])).toEqual(['fred@example.com']);
  refuse = 5;
  sink.write([lockout('gina')]);
  await sink.idle();
  expect(messages).toHaveLength(1);
  expect(sink.stats()).toMatchObject({ sent: 1, failed: 1 });
  await sink.close();
});
