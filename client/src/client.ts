// AuthwatchClient: what an application calls on its login path. report() never waits on the
// network; check() and isSessionEnded() wait at most timeoutMs and then fall back (open by default).

import type { RequestHandler } from 'express';
import { randomBytes, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { baseUrlOf, requestJson } from './http';
import { EventReporter } from './reporter';
import { SessionStateCache } from './session-cache';
import { enforceSessions, guardLogin, type EnforceSessionsOptions, type GuardLoginOptions } from './express';
import type { AuthwatchClientOptions, AuthwatchEvent, CheckResult, GuardClient, ReporterStats } from './types';
import type { CheckAnswer as WireCheckAnswer } from '@authwatch/wire';

/** The collector's /v1/check answer as received: any field may be missing until checked. */
type CheckAnswer = Partial<Omit<WireAllowed, 'allowed'> & Omit<WireDenied, 'allowed'>> & { allowed?: boolean };
type WireAllowed = Extract<WireCheckAnswer, { allowed: true }>;
type WireDenied = Extract<WireCheckAnswer, { allowed: false }>;

/** The address to send, or undefined: an address the collector would refuse must not cost the check. */
function usableIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  return isIP(bare) ? ip : undefined;
}

interface SessionAnswer {
  state?: 'active' | 'ended';
}

export class AuthwatchClient implements GuardClient {
  private readonly baseUrl: string;
  private readonly reporter: EventReporter;
  private readonly sessions: SessionStateCache;
  private readonly timeoutMs: number;
  private readonly failClosed: boolean;
  private readonly onError: (err: Error) => void;
  /** reportNow() calls in flight; flush() and close() wait for them. */
  private readonly direct = new Set<Promise<boolean>>();

  constructor(private readonly options: AuthwatchClientOptions) {
    if (!options?.url) throw new Error('AuthwatchClient: options.url (the collector base URL) is required');
    this.baseUrl = baseUrlOf(options.url);
    this.timeoutMs = options.timeoutMs ?? 300;
    this.failClosed = options.failClosed ?? false;
    this.onError = options.onError ?? (() => undefined);
    this.sessions = new SessionStateCache(options.sessionCacheMs ?? 1_000);
    this.reporter = new EventReporter({
      baseUrl: this.baseUrl,
      key: options.ingestKey,
      service: options.service,
      batchSize: options.batchSize ?? 200,
      flushIntervalMs: options.flushIntervalMs ?? 200,
      maxQueue: options.maxQueue ?? 10_000,
      sendTimeoutMs: options.sendTimeoutMs ?? 10_000,
      minRetryDelayMs: options.minRetryDelayMs ?? 200,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      maxServerErrorRetries: options.maxServerErrorRetries ?? 5,
      onError: this.onError,
    });
  }

  /** Queues an event for delivery; returns at once and never throws for delivery problems. */
  report(event: AuthwatchEvent): void {
    if (!event || typeof event.user !== 'string' || event.user === '') {
      throw new TypeError('AuthwatchClient.report: event.user is required');
    }
    this.reporter.enqueue(event);
  }

  /**
   * Sends one event now (not through the batch queue) and resolves once the collector stored it;
   * used for login outcomes that settle an attempt. Falls back to the queue when the collector
   * cannot be reached; a 4xx refusal is counted and reported through onError, never retried.
   */
  reportNow(event: AuthwatchEvent): Promise<boolean> {
    if (!event || typeof event.user !== 'string' || event.user === '') {
      throw new TypeError('AuthwatchClient.reportNow: event.user is required');
    }
    const p = this.sendNow(event).finally(() => this.direct.delete(p));
    this.direct.add(p);
    return p;
  }

  private async sendNow(event: AuthwatchEvent): Promise<boolean> {
    const stamped: AuthwatchEvent = { ...event, id: event.id ?? randomUUID(), time: event.time ?? Date.now(), service: event.service ?? this.options.service };
    if (stamped.service === undefined) delete stamped.service;
    try {
      const { status, body } = await requestJson(this.baseUrl, 'v1/events', {
        method: 'POST',
        key: this.options.ingestKey,
        body: [stamped],
        timeoutMs: this.options.sendTimeoutMs ?? 10_000,
      });
      if (status === 202 || status === 200) return true;
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        this.onError(new Error(`authwatch collector refused an event: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`));
        return false;
      }
    } catch (err) {
      this.onError(err as Error);
    }
    // Unreachable or busy: the queue retries it (same id, so never stored twice).
    this.reporter.enqueue(stamped);
    return false;
  }

  /** May this user log in from this IP now? Reads the locks in force; see beginAttempt for the login path. */
  check(user: string, ip?: string): Promise<CheckResult> {
    return this.ask(user, ip, false);
  }

  /**
   * Reserves one login attempt before the password is checked: the collector lets at most the
   * policy's number of attempts through, however many arrive at once. Report the outcome with the
   * returned attemptId (guardLogin does this). An invalid client address is left out; the user is
   * still checked.
   */
  beginAttempt(user: string, ip?: string): Promise<CheckResult> {
    return this.ask(user, ip, true);
  }

  private async ask(user: string, ip: string | undefined, attempt: boolean): Promise<CheckResult> {
    const addr = usableIp(ip);
    // The attempt's id is ours: if we stop waiting for the answer, the outcome we report with it
    // still settles the reservation the collector may have made meanwhile.
    const attemptId = attempt ? randomBytes(16).toString('base64url') : undefined;
    let status: number;
    let answer: CheckAnswer | null;
    try {
      const r = await requestJson(this.baseUrl, 'v1/check', {
        method: 'POST',
        key: this.options.ingestKey,
        body: { user, ...(addr ? { ip: addr } : {}), ...(attempt ? { attempt: true, attempt_id: attemptId } : {}) },
        timeoutMs: this.timeoutMs,
      });
      status = r.status;
      answer = r.body as CheckAnswer | null;
    } catch (err) {
      this.onError(err as Error);
      return { allowed: !this.failClosed, reason: 'check_unavailable', degraded: true, ...(attemptId ? { attemptId } : {}) };
    }
    if (status === 200 && typeof answer?.allowed === 'boolean') {
      if (answer.allowed) return answer.attempt_id ? { allowed: true, attemptId: answer.attempt_id } : { allowed: true };
      return { allowed: false, reason: answer.reason, retryAfter: answer.retry_after ?? null };
    }
    this.onError(new Error(`authwatch collector POST /v1/check answered HTTP ${status}`));
    // The collector answered and refused the question (bad input, wrong key): never a yes.
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { allowed: false, reason: 'check_refused', retryAfter: null };
    return { allowed: !this.failClosed, reason: 'check_unavailable', degraded: true, ...(attemptId ? { attemptId } : {}) };
  }

  /**
   * Was this session ended by the collector (an admin, a newer login, an IP conflict…)? Answers are
   * cached for sessionCacheMs. Unknown sessions count as not ended; so does no answer in time,
   * unless failClosed.
   */
  async isSessionEnded(sessionId: string): Promise<boolean> {
    const cached = this.sessions.get(sessionId);
    if (cached !== undefined) return cached;
    try {
      const { status, body } = await requestJson(
        this.baseUrl,
        `v1/sessions/${encodeURIComponent(sessionId)}`,
        { method: 'GET', key: this.options.ingestKey, timeoutMs: this.timeoutMs, label: 'GET /v1/sessions/:id' },
      );
      let ended: boolean;
      if (status === 404) ended = false;
      else if (status === 200) ended = (body as SessionAnswer | null)?.state === 'ended';
      else throw new Error(`authwatch collector GET /v1/sessions/:id answered HTTP ${status}`);
      this.sessions.set(sessionId, ended);
      return ended;
    } catch (err) {
      this.onError(err as Error);
      return this.failClosed;
    }
  }

  /** Forget a cached session answer (call when the app itself ends the session). */
  forgetSession(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** Express middleware for the login route: 429 for locked users, reports the outcome. */
  guardLogin(options: GuardLoginOptions): RequestHandler {
    return guardLogin(this, options);
  }

  /** Express middleware for authenticated routes: refuses sessions the collector has ended. */
  enforceSessions(options: EnforceSessionsOptions): RequestHandler {
    return enforceSessions(this, options);
  }

  stats(): ReporterStats {
    return this.reporter.stats();
  }

  /** Resolves true once every reported event was settled, false if timeoutMs passed first. */
  async flush(timeoutMs?: number): Promise<boolean> {
    await Promise.all([...this.direct]);
    return this.reporter.flush(timeoutMs);
  }

  /** Stops accepting events and delivers what is left (waiting at most timeoutMs). */
  async close(timeoutMs?: number): Promise<boolean> {
    await Promise.all([...this.direct]);
    return this.reporter.close(timeoutMs);
  }
}
