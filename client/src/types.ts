// Shapes shared by the client: the event body of the collector's POST /v1/events and the decision
// API's reasons come from the wire contract (@authwatch/wire); the rest is the client's own API.
import type { AttributeValue, DenyReason, IngestEvent, IngestType, Outcome } from '@authwatch/wire';

export type { AttributeValue, DenyReason, Outcome };

/** Event kinds an application reports (the collector writes the others itself). */
export type EventType = IngestType;

/**
 * One authentication event, exactly the collector's POST /v1/events body. The client fills in `id`
 * (so retries never duplicate) and `time` (when report() was called) when they are absent;
 * `session_id` is the raw id, of which the collector keeps only a keyed hash; `attributes` never
 * hold a password, secret or token.
 */
export type AuthwatchEvent = IngestEvent;

export interface CheckResult {
  allowed: boolean;
  /** From beginAttempt: report the login outcome with it (attempt_id). */
  attemptId?: string;
  /**
   * Collector reason when denied; 'check_unavailable' when the collector did not answer in time
   * (the failClosed fallback applies); 'check_refused' when it answered 4xx (never allowed).
   */
  reason?: DenyReason | 'check_unavailable' | 'check_refused' | string;
  /** Seconds until the lock ends; null = until an admin unlocks. */
  retryAfter?: number | null;
  /** True when the answer is the configured fallback, not the collector's. */
  degraded?: boolean;
}

export interface AuthwatchClientOptions {
  /** Collector base URL, e.g. http://127.0.0.1:4600 */
  url: string;
  /** Key with the ingest role (sent as Authorization: Bearer). Omit for a collector in open loopback mode. */
  ingestKey?: string;
  /** Time the login path may wait on check() / isSessionEnded(), ms. Default 300. */
  timeoutMs?: number;
  /**
   * When the collector cannot be reached or fails (timeout, network error, 5xx): false (default)
   * lets the login proceed, true refuses it. A 4xx answer is never turned into "allowed".
   */
  failClosed?: boolean;
  /** Default `service` stamped on reported events that carry none. */
  service?: string;
  /** Events per POST. Default 200. */
  batchSize?: number;
  /** How long report() waits to gather a batch, ms. Default 200. */
  flushIntervalMs?: number;
  /** Most events kept while the collector is unreachable; the oldest are dropped beyond it. Default 10000. */
  maxQueue?: number;
  /** Timeout of one batch POST, ms. Default 10000. */
  sendTimeoutMs?: number;
  /** First retry delay, ms (doubles up to maxRetryDelayMs, with jitter). Default 200. */
  minRetryDelayMs?: number;
  /** Longest retry delay, ms. Default 30000. */
  maxRetryDelayMs?: number;
  /**
   * Tries for a batch the collector answers with 5xx (it is up, but fails on this batch); then the
   * batch is split to find the event it fails on, which is dropped and counted. Default 5.
   */
  maxServerErrorRetries?: number;
  /** How long an "is this session ended?" answer is reused, ms. Default 1000 (0: ask every time). */
  sessionCacheMs?: number;
  /** Called for delivery problems (never thrown into the caller's request path). */
  onError?: (err: Error) => void;
}

/** Counters that show what happened to reported events. */
export interface ReporterStats {
  /** Waiting to be sent. */
  queued: number;
  /** In a POST that has not been answered yet. */
  inFlight: number;
  /** Acknowledged by the collector (202). */
  delivered: number;
  /** Of the delivered ones, already known to the collector (idempotent retries). */
  duplicates: number;
  /** Dropped because the queue was full (oldest first). */
  dropped: number;
  /** Refused by the collector (4xx, or 5xx on every retry of a single event); never retried again. */
  rejected: number;
  /** Failed POST attempts that will be retried. */
  retries: number;
}

/** What the express middleware needs from a client (AuthwatchClient implements it). */
export interface GuardClient {
  beginAttempt(user: string, ip?: string): Promise<CheckResult>;
  report(event: AuthwatchEvent): void;
  reportNow(event: AuthwatchEvent): Promise<boolean>;
  isSessionEnded(sessionId: string): Promise<boolean>;
}
