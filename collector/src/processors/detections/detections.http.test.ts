// End to end through the real collector (express, SQLite file, pipeline): events posted over HTTP
// are enriched from the shipped geo data and ua-parser-js, detections are stored as "detection"
// events, and the notification sinks deliver them to a real webhook receiver and SMTP server.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startServer, type TestServer } from '../../../test/helpers/server';

const SECRET = 'whsec-integration-0123456789';
const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

let srv: TestServer;
let hooks: { raw: string; signature: string }[];
let hookServer: Server;
let mails: { to: string[]; raw: string }[];
let smtp: SMTPServer;

beforeAll(async () => {
  hooks = [];
  hookServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push({ raw: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['x-authwatch-signature']) });
      res.end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  mails = [];
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  srv = await startServer({
    env: {
      AUTHWATCH_WEBHOOK_URL: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`,
      AUTHWATCH_WEBHOOK_SECRET: SECRET,
      AUTHWATCH_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      AUTHWATCH_NOTIFY_EMAIL_FROM: 'authwatch@example.org',
      AUTHWATCH_NOTIFY_EMAIL_TO: 'secops@example.org',
      AUTHWATCH_NOTIFY_ON: 'new_device,new_country,brute_force',
    },
  });
});

afterAll(async () => {
  await srv?.stop(true);
  hookServer.closeAllConnections();
  await new Promise((r) => hookServer.close(r));
  await new Promise<void>((r) => smtp.close(() => r()));
});

async function until<T>(what: string, f: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('posted events are enriched, detections stored and notified', async () => {
  const t0 = Date.now() - 60_000;
  const carol = (i: number, ip: string, ua: string) => ({
    id: `carol-${i}`,
    time: t0 + i * 1000,
    type: 'login',
    outcome: 'success',
    user: 'carol',
    email: 'carol@example.com',
    ip,
    user_agent: ua,
    service: 'portal',
  });
  const history = [0, 1, 2].map((i) => carol(i, '81.2.69.142', CHROME_WINDOWS));
  expect((await srv.post('/v1/events', history)).status).toBe(202);
  expect((await srv.post('/v1/events', [carol(3, '8.8.8.8', IPHONE_SAFARI)])).status).toBe(202);
  const attack = Array.from({ length: 8 }, (_, i) => ({
    id: `mallory-${i}`,
    time: t0 + 10_000 + i * 2000,
    type: 'login',
    outcome: 'failure',
    reason: 'invalid_password',
    user: 'mallory',
    ip: '1.1.1.1',
    user_agent: 'python-requests/2.32.3',
  }));
  expect((await srv.post('/v1/events', attack)).status).toBe(202);

  // Enrichment is visible through the query API.
  const logins = await srv.get('/v1/events?user=carol&type=login&limit=10');
  const byId = Object.fromEntries(logins.body.events.map((e: Record<string, unknown>) => [e.id, e]));
  expect(byId['carol-0']).toMatchObject({ country: 'GB', asn: 20712, browser: 'Chrome', os: 'Windows' });
  expect(byId['carol-3']).toMatchObject({ country: 'US', asn: 15169, isp: expect.stringMatching(/Google/), browser: 'Mobile Safari', os: 'iOS' });

  // Detections are stored events of type "detection".
  const det = await srv.get('/v1/events?type=detection&limit=50');
  const found = det.body.events.map((e: { reason: string; user: string }) => `${e.reason}:${e.user}`).sort();
  // GB then US three seconds later: impossible travel, from the shipped country data alone.
  expect(found).toEqual(['brute_force:mallory', 'impossible_travel:carol', 'new_country:carol', 'new_device:carol']);
  const nc = det.body.events.find((e: { reason: string }) => e.reason === 'new_country');
  expect(nc).toMatchObject({ type: 'detection', outcome: null, ip: '8.8.8.8', country: 'US' });
  expect(nc.attributes).toMatchObject({ country: 'US', previous_country: 'GB' });

  // Webhook: every detection, signed; e-mail: carol hears about her account, secops about mallory's.
  await until('3 webhook deliveries', () => hooks.length >= 3);
  for (const h of hooks) expect(h.signature).toBe('sha256=' + createHmac('sha256', SECRET).update(h.raw).digest('hex'));
  expect(hooks.map((h) => JSON.parse(h.raw).event.kind).sort()).toEqual(['brute_force', 'new_country', 'new_device']);
  await until('3 mails', () => mails.length >= 3);
  // mallory's events carry no e-mail, so the brute-force mail goes to AUTHWATCH_NOTIFY_EMAIL_TO.
  expect(mails.map((m) => m.to.join(',')).sort()).toEqual(['carol@example.com', 'carol@example.com', 'secops@example.org']);
});
