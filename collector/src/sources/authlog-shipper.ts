// Shipper mode of the auth.log source (`authwatch authlog --to URL`): batches go to a remote
// collector's POST /v1/events with an ingest key instead of this process's pipeline. While the
// collector is down or failing (network error, 5xx) a batch is retried for as long as it takes,
// 0.5 s doubling to 30 s apart, on cockatiel's retry policy (the backoff library the notification
// senders and the client reporter use); the reader waits meanwhile, so nothing is lost or reordered.
import { ExponentialBackoff, handleAll, noJitterGenerator, retry } from 'cockatiel';
import type { Logger } from '../log';
import type { EventSink } from './authlog';

export function remoteSink(url: string, key: string | undefined, log: Logger, signal?: AbortSignal): EventSink {
  const endpoint = new URL('/v1/events', url).toString();
  const policy = retry(handleAll, {
    maxAttempts: Infinity,
    backoff: new ExponentialBackoff({ generator: noJitterGenerator, initialDelay: 500, maxDelay: 30_000 }),
  });
  policy.onRetry((r) => {
    if (signal?.aborted) return;
    const error = 'error' in r ? String(r.error) : 'unknown';
    log.warn('authlog: remote collector unavailable, retrying', { error, retry_ms: r.delay });
  });
  return (events) =>
    policy.execute(async () => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(events),
        signal,
      });
      const body = (await res.json().catch(() => ({}))) as { accepted?: number; duplicates?: number; error?: string };
      if (res.status === 202) return { accepted: body.accepted ?? 0, duplicates: body.duplicates ?? 0, rejected: 0 };
      // 4xx will not get better by retrying: count and move on so the file keeps flowing.
      if (res.status >= 400 && res.status < 500) {
        log.error('authlog: remote collector refused a batch', { status: res.status, error: body.error });
        return { accepted: 0, duplicates: 0, rejected: events.length };
      }
      throw new Error(`HTTP ${res.status}`);
    }, signal);
}
