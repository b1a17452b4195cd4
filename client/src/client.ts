// AuthwatchClient: what an application calls on its login path. report() never waits on the
// network; check() and isSessionEnded() wait at most timeoutMs and then fall back (open by default).

import type { RequestHandler } from 'express';
import { baseUrlOf, requestJson } from './http';
import { EventReporter } from './reporter';
import { SessionStateCache } from './session-cache';
import { enforceSessions, guardLogin, type EnforceSessionsOptions, type GuardLoginOptions } from './express';
import type { AuthwatchClientOptions, AuthwatchEvent, CheckResult, ReporterStats } from './types';

interface CheckAnswer {
  allowed?: boolean;
  reason?: string;
  retry_after?: number | null;
}

interface SessionAnswer {
  state?: 'active' | 'ended';
}

export class AuthwatchClient {
  private readonly baseUrl: string;
  private readonly reporter: EventReporter;
  private readonly sessions: SessionStateCache;
  private readonly timeoutMs: number;
  private readonly failClosed: boolean;
  private readonly onError: (err: Error) => void;

  constructor(private readonly options: AuthwatchClientOptions) {
    if (!options?.url) throw new Error('AuthwatchClient: options.url (the collector base URL) is required');
    this.baseUrl = baseUrlOf(options.url);
    this.timeoutMs = options.timeoutMs ?? 300;
    this.failClosed = options.failClosed ?? false;
    this.onError = options.onError ?? (() => undefined);
    this.sessions = new SessionStateCache(options.sessionCacheMs ?? 5_000);
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

  /** May this user log in from this IP now? Ask before checking the password. */
  async check(user: string, ip?: string): Promise<CheckResult> {
    try {
      const { status, body } = await requestJson(this.baseUrl, 'v1/check', {
        method: 'POST',
        key: this.options.ingestKey,
        body: ip ? { user, ip } : { user },
        timeoutMs: this.timeoutMs,
      });
      const answer = body as CheckAnswer | null;
      if (status !== 200 || typeof answer?.allowed !== 'boolean') {
        throw new Error(`authwatch collector POST /v1/check answered HTTP ${status}`);
      }
      if (answer.allowed) return { allowed: true };
      return { allowed: false, reason: answer.reason, retryAfter: answer.retry_after ?? null };
    } catch (err) {
      this.onError(err as Error);
      return { allowed: !this.failClosed, reason: 'check_unavailable', degraded: true };
    }
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
  flush(timeoutMs?: number): Promise<boolean> {
    return this.reporter.flush(timeoutMs);
  }

  /** Stops accepting events and delivers what is left (waiting at most timeoutMs). */
  close(timeoutMs?: number): Promise<boolean> {
    return this.reporter.close(timeoutMs);
  }
}
