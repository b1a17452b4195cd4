// The demo login app: a small express site that uses @authwatch/client the way a real app would —
// guardLogin in front of the password check, enforceSessions in front of pages, report() for
// logouts, page views and idle expiry.

import { randomBytes } from 'node:crypto';
import cookieParser from 'cookie-parser';
import express, { type Request, type Response } from 'express';
import type { AuthwatchClient } from '@authwatch/client';
import { SessionTable, type AppSession } from './sessions';
import { UserStore } from './user-store';
import type { DemoUser } from './users';

export interface DemoAppOptions {
  client: AuthwatchClient;
  users: DemoUser[];
  service?: string;
  idleTimeoutMs?: number;
  /** Log one line per login outcome (never a password or session id). */
  log?: (line: string) => void;
}

export interface DemoApp {
  app: express.Express;
  sessions: SessionTable;
  /** Ends idle sessions now (also runs every few seconds once start() is called). */
  sweepIdle(): number;
  start(): void;
  stop(): void;
}

const SESSION_COOKIE = 'demo_sid';
const DEVICE_COOKIE = 'demo_did';

export function createDemoApp(options: DemoAppOptions): DemoApp {
  const { client } = options;
  const service = options.service ?? 'demo-portal';
  const log = options.log ?? (() => undefined);
  const accounts = new UserStore(options.users);
  const sessions = new SessionTable(options.idleTimeoutMs ?? 90_000);
  const app = express();
  // The generator (and any real proxy) sets X-Forwarded-For; trust it from loopback only.
  app.set('trust proxy', 'loopback');
  app.use(cookieParser());
  // Grafana alert notifications (the compose stack's default webhook contact point): logged so the
  // demo shows the whole loop from attack to alert. Registered before the small body limit below.
  app.post('/hooks/grafana-alerts', express.json({ limit: '2mb' }), (req: Request, res: Response) => {
    const body = req.body as { status?: string; alerts?: Array<{ status?: string; labels?: Record<string, string> }> };
    for (const a of body?.alerts ?? []) log(`grafana alert ${a.labels?.alertname ?? '?'}: ${a.status ?? body.status ?? '?'}`);
    res.status(204).end();
  });
  app.use(express.json({ limit: '16kb' }));
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));

  const wantsHtml = (req: Request): boolean => req.accepts(['json', 'html']) === 'html';
  const endSession = (s: AppSession, type: 'logout' | 'session_end', reason?: string): void => {
    client.forgetSession(s.id);
    client.report({
      type,
      outcome: 'success',
      reason,
      user: s.user,
      user_id: s.userId,
      session_id: s.id,
      ip: s.ip,
      user_agent: s.userAgent,
      service,
      entry: 'web',
    });
  };

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', sessions: sessions.size });
  });

  app.get('/', (_req, res) => {
    res.type('html').send(`<!doctype html><title>Demo portal</title>
<h1>Demo portal</h1>
<form method="post" action="/login">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Log in</button>
</form>`);
  });

  app.post(
    '/login',
    client.guardLogin({
      getUser: (req) => (typeof req.body?.username === 'string' ? req.body.username.trim() : undefined),
      getDevice: (req) => req.cookies?.[DEVICE_COOKIE],
      service,
      entry: 'password',
    }),
    (req: Request, res: Response) => {
      const username = typeof req.body?.username === 'string' ? req.body.username.trim() : '';
      const password = typeof req.body?.password === 'string' ? req.body.password : '';
      if (!username || !password) {
        res.status(400).json({ error: 'username and password are required' });
        return;
      }
      if (!req.cookies?.[DEVICE_COOKIE]) {
        res.cookie(DEVICE_COOKIE, randomBytes(12).toString('base64url'), { httpOnly: true, sameSite: 'lax', maxAge: 31_536_000_000 });
      }
      const result = accounts.authenticate(username, password);
      if (typeof result === 'string') {
        res.locals.authwatch = { outcome: 'failure', reason: result };
        log(`login ${username} from ${req.ip}: failure (${result})`);
        res.status(401).json({ error: 'invalid username or password' });
        return;
      }
      const session = sessions.open({ user: result.name, userId: result.userId, ip: req.ip, userAgent: req.get('user-agent') });
      res.locals.authwatch = {
        outcome: 'success',
        sessionId: session.id,
        userId: result.userId,
        email: result.email,
        user: result.name,
      };
      res.cookie(SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'lax' });
      log(`login ${result.name} from ${req.ip}: success`);
      if (wantsHtml(req)) res.redirect(303, '/account');
      else res.json({ user: result.name });
    },
  );

  const requireSession = client.enforceSessions({
    getSessionId: (req) => req.cookies?.[SESSION_COOKIE],
    onRevoked: (_req, res, id) => {
      if (sessions.end(id)) log('session ended by Authwatch; refusing it');
      res.clearCookie(SESSION_COOKIE);
    },
  });

  /** A page served inside a session: an access event Authwatch uses to keep the session alive. */
  const reportAccess = (req: Request, session: AppSession, reason: string, attributes: Record<string, string>) =>
    client.report({
      type: 'access',
      outcome: 'success',
      reason,
      user: session.user,
      user_id: session.userId,
      session_id: session.id,
      ip: req.ip,
      user_agent: req.get('user-agent'),
      device: req.cookies?.[DEVICE_COOKIE],
      service,
      entry: 'web',
      attributes,
    });

  app.get('/account', requireSession, (req: Request, res: Response) => {
    const session = sessions.get(req.cookies?.[SESSION_COOKIE]);
    if (!session) {
      res.status(401).json({ error: 'not logged in' });
      return;
    }
    if (sessions.isIdle(session)) {
      sessions.end(session.id);
      endSession(session, 'session_end', 'idle_timeout');
      res.clearCookie(SESSION_COOKIE);
      res.status(401).json({ error: 'session expired' });
      return;
    }
    sessions.touch(session);
    reportAccess(req, session, 'account_page', { path: '/account' });
    if (wantsHtml(req)) {
      res.type('html').send(`<!doctype html><title>Account</title><h1>Hello ${escapeHtml(session.user)}</h1>
<form method="post" action="/logout"><button>Log out</button></form>`);
    } else {
      res.json({ user: session.user, since: new Date(session.createdAt).toISOString() });
    }
  });

  app.get('/reports/:name', requireSession, (req: Request, res: Response) => {
    const session = sessions.get(req.cookies?.[SESSION_COOKIE]);
    if (!session || sessions.isIdle(session)) {
      res.status(401).json({ error: 'not logged in' });
      return;
    }
    sessions.touch(session);
    reportAccess(req, session, 'report_download', { report: String(req.params.name).replace(/\.csv$/, '').slice(0, 64) });
    res.type('text/csv').send('date,amount\n2026-11-01,120.00\n');
  });

  app.post('/logout', (req: Request, res: Response) => {
    const session = sessions.end(req.cookies?.[SESSION_COOKIE]);
    if (session) endSession(session, 'logout', 'logout');
    res.clearCookie(SESSION_COOKIE);
    if (wantsHtml(req)) res.redirect(303, '/');
    else res.json({ ok: true });
  });

  let sweeper: NodeJS.Timeout | undefined;
  const sweepIdle = (): number => {
    const idle = sessions.sweepIdle();
    for (const s of idle) endSession(s, 'session_end', 'idle_timeout');
    return idle.length;
  };
  return {
    app,
    sessions,
    sweepIdle,
    start() {
      sweeper ??= setInterval(sweepIdle, 5_000);
      sweeper.unref();
    },
    stop() {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
