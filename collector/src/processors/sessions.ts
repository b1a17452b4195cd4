// Sessions: a successful login with a session id opens one; access touches it; logout, a client
// session_end, a newer login (single_session), another IP (session_ip_binding), idle timeout or an
// admin end it. Every end the collector decides is stored as a session_end event.
import type { StoredEvent } from '../schema/stored-event';
import type { SessionRow } from '../store/store';
import type { ProcessContext, Processor } from '../pipeline/contracts';
import { derivedEvent } from '../schema/derived-event';

export function sessionEndEvent(ctx: { now: number }, s: SessionRow, time: number, reason: string, actor: string | null = null): StoredEvent {
  return derivedEvent(ctx.now, {
    time,
    type: 'session_end',
    user: s.user,
    user_id: s.user_id,
    session_id: s.id,
    ip: s.ip,
    service: s.service,
    reason,
    actor,
    device: s.device,
    country: s.country,
    city: s.city,
    isp: s.isp,
    asn: s.asn,
    browser: s.browser,
    os: s.os,
    device_type: s.device_type,
  });
}

/** Ends an active session and records why; false when it was not active. */
export async function endSession(ctx: ProcessContext, s: SessionRow, time: number, reason: string, actor: string | null = null): Promise<boolean> {
  if (!(await ctx.tx.endSession(s.id, time, reason))) return false;
  ctx.emit(sessionEndEvent(ctx, s, time, reason, actor));
  return true;
}

function rowFromLogin(e: StoredEvent, id: string): SessionRow {
  return {
    id,
    user: e.user,
    user_id: e.user_id,
    ip: e.ip,
    country: e.country,
    city: e.city,
    isp: e.isp,
    asn: e.asn,
    browser: e.browser,
    os: e.os,
    device: e.device,
    device_type: e.device_type,
    service: e.service,
    started_at: e.time,
    last_seen_at: e.time,
    ended_at: null,
    end_reason: null,
  };
}

async function onLogin(e: StoredEvent, ctx: ProcessContext): Promise<void> {
  if (ctx.policy.single_session) {
    for (const other of await ctx.tx.activeSessionsOfUser(e.user)) {
      if (other.id !== e.session_id && other.started_at <= e.time) await endSession(ctx, other, e.time, 'new_login');
    }
  }
  if (e.session_id) await ctx.tx.openSession(rowFromLogin(e, e.session_id));
}

async function onAccess(e: StoredEvent, id: string, ctx: ProcessContext): Promise<void> {
  const s = await ctx.tx.getSession(id);
  if (!s || s.ended_at !== null) return;
  const idleMs = ctx.policy.idle_timeout_seconds * 1000;
  if (e.time - s.last_seen_at > idleMs) {
    // The session was already idle when this arrived: it ended at last_seen + timeout.
    await endSession(ctx, s, s.last_seen_at + idleMs, 'idle_timeout');
    return;
  }
  if (ctx.policy.session_ip_binding && s.ip && e.ip && s.ip !== e.ip) {
    await endSession(ctx, s, e.time, 'ip_conflict');
    return;
  }
  await ctx.tx.touchSession(id, e.time, e.ip, e.service);
}

export function createSessionProcessor(): Processor {
  return {
    name: 'sessions',
    async process(events, ctx) {
      for (const e of events) {
        switch (e.type) {
          case 'login':
            if (e.outcome === 'success') await onLogin(e, ctx);
            break;
          case 'access':
          case 'mfa':
          case 'password_change':
            if (e.session_id) await onAccess(e, e.session_id, ctx);
            break;
          case 'logout':
            if (e.session_id) {
              const s = await ctx.tx.getSession(e.session_id);
              if (s) await endSession(ctx, s, e.time, 'logout');
            }
            break;
          case 'session_end':
            // The client's own session_end is the stored record; just close the row.
            if (e.session_id) await ctx.tx.endSession(e.session_id, e.time, e.reason ?? 'logout');
            break;
          default:
            break;
        }
      }
    },
  };
}

/** Ends sessions idle for longer than the policy allows; returns how many. */
export async function sweepIdleSessions(ctx: ProcessContext): Promise<number> {
  const idleMs = ctx.policy.idle_timeout_seconds * 1000;
  let ended = 0;
  for (;;) {
    const idle = await ctx.tx.idleSessions(ctx.now - idleMs, 500);
    for (const s of idle) if (await endSession(ctx, s, s.last_seen_at + idleMs, 'idle_timeout')) ended++;
    if (idle.length < 500) return ended;
  }
}
