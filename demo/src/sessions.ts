// The demo app's own session table (in memory), with idle expiry.

import { randomBytes } from 'node:crypto';

export interface AppSession {
  id: string;
  user: string;
  userId: string;
  ip: string | undefined;
  userAgent: string | undefined;
  createdAt: number;
  lastSeen: number;
}

export class SessionTable {
  private sessions = new Map<string, AppSession>();

  constructor(readonly idleTimeoutMs: number) {}

  open(fields: Omit<AppSession, 'id' | 'createdAt' | 'lastSeen'>, now = Date.now()): AppSession {
    const session: AppSession = { ...fields, id: randomBytes(24).toString('base64url'), createdAt: now, lastSeen: now };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): AppSession | undefined {
    return id ? this.sessions.get(id) : undefined;
  }

  isIdle(session: AppSession, now = Date.now()): boolean {
    return now - session.lastSeen > this.idleTimeoutMs;
  }

  touch(session: AppSession, now = Date.now()): void {
    session.lastSeen = now;
  }

  end(id: string): AppSession | undefined {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    return s;
  }

  /** Removes and returns every session idle for longer than the timeout. */
  sweepIdle(now = Date.now()): AppSession[] {
    const idle: AppSession[] = [];
    for (const s of this.sessions.values()) if (this.isIdle(s, now)) idle.push(s);
    for (const s of idle) this.sessions.delete(s.id);
    return idle;
  }

  get size(): number {
    return this.sessions.size;
  }
}
