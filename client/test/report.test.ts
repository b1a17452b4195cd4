// report(): batching, retry across a collector crash, the bounded queue, invalid events — all
// against the real collector process and its SQLite store.

import { randomUUID } from 'node:crypto';
import { AuthwatchClient } from '../src';
import { KEYS, startCollector, type LiveCollector } from './live-collector';

interface EventsBody {
  events: Array<{ id: string; user: string }>;
  total: number;
}

let collector: LiveCollector;
beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ids of the events the app reported for this user (the collector's own lockout/detection events excluded). */
async function storedIds(user: string, type?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/v1/events?user=${user}${type ? `&type=${type}` : ''}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await collector.api<EventsBody & { next_cursor: string | null }>('GET', q, KEYS.read);
    expect(page.status).toBe(200);
    ids.push(...page.body.events.map((e) => e.id));
    cursor = page.body.next_cursor;
  } while (cursor);
  return ids;
}

function fastClient(extra: Partial<ConstructorParameters<typeof AuthwatchClient>[0]> = {}): AuthwatchClient {
  return new AuthwatchClient({
    url: collector.url,
    ingestKey: KEYS.ingest,
    service: 'report-test',
    batchSize: 50,
    flushIntervalMs: 10,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 400,
    ...extra,
  });
}

test('events are sent in batches and every one is stored once', async () => {
  const client = fastClient();
  const user = `batch-${randomUUID().slice(0, 8)}`;
  for (let i = 0; i < 230; i++) client.report({ type: 'access', outcome: 'success', reason: 'api_request', user, attributes: { n: i } });
  // report() only queued: nothing has been sent synchronously.
  expect(client.stats().queued + client.stats().inFlight).toBe(230);
  expect(await client.flush(15_000)).toBe(true);
  expect(client.stats()).toMatchObject({ delivered: 230, dropped: 0, rejected: 0, queued: 0 });
  expect((await storedIds(user)).length).toBe(230);
  await client.close();
});

test('collector killed (-9) and restarted mid-stream: nothing acknowledged or queued is lost, nothing doubled', async () => {
  const user = `crash-${randomUUID().slice(0, 8)}`;
  const errors: string[] = [];
  const withErrors = fastClient({ onError: (e) => errors.push(e.message) });

  const total = 1200;
  let sent = 0;
  let killed = false;
  const started = Date.now();
  // The app keeps reporting throughout; the second half is only reported once the collector is down.
  const stream = (async () => {
    while (sent < total) {
      for (let j = 0; j < 40 && sent < total; j++, sent++) {
        withErrors.report({ type: 'login', outcome: sent % 3 ? 'success' : 'failure', reason: sent % 3 ? undefined : 'invalid_password', user, ip: '73.12.0.9' });
      }
      await sleep(15);
      while (sent >= total / 2 && !killed) await sleep(5);
    }
  })();
  while (sent < 400 || withErrors.stats().delivered === 0) await sleep(5);
  const deliveredBeforeCrash = withErrors.stats().delivered;
  await collector.stop('SIGKILL');
  killed = true;
  await sleep(600);
  const duringOutage = withErrors.stats();
  await collector.restart();
  await stream;
  expect(await withErrors.flush(30_000)).toBe(true);
  const stats = withErrors.stats();
  const ids = await storedIds(user, 'login');
  console.log(
    `crash test: ${total} reported in ${Date.now() - started} ms; ${deliveredBeforeCrash} acknowledged before kill -9; ` +
      `${duringOutage.queued + duringOutage.inFlight} waiting during the outage; ${stats.retries} retries; ` +
      `${stats.duplicates} duplicates re-sent after a lost ack; ${ids.length} stored`,
  );
  expect(deliveredBeforeCrash).toBeGreaterThan(0);
  expect(duringOutage.retries).toBeGreaterThan(0);
  expect(errors.length).toBeGreaterThan(0);
  expect(stats).toMatchObject({ delivered: total, dropped: 0, rejected: 0, queued: 0 });
  expect(ids.length).toBe(total);
  expect(new Set(ids).size).toBe(total);
  await withErrors.close();
});

test('a full queue drops the oldest events and counts them', async () => {
  await collector.stop();
  const user = `bounded-${randomUUID().slice(0, 8)}`;
  const client = fastClient({ maxQueue: 100 });
  for (let i = 0; i < 250; i++) client.report({ id: `${user}-${String(i).padStart(3, '0')}`, type: 'access', outcome: 'success', user });
  // Give the client a moment to try (and fail) while the collector is down.
  await sleep(200);
  const down = client.stats();
  expect(down.dropped).toBe(150);
  expect(down.queued + down.inFlight).toBe(100);
  await collector.restart();
  expect(await client.flush(30_000)).toBe(true);
  const ids = (await storedIds(user)).sort();
  // The newest 100 survived.
  expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => `${user}-${String(150 + i).padStart(3, '0')}`));
  expect(client.stats()).toMatchObject({ delivered: 100, dropped: 150 });
  await client.close();
});

test('an event the collector refuses is dropped and counted; the rest of its batch is stored', async () => {
  const errors: string[] = [];
  const client = fastClient({ onError: (e) => errors.push(e.message) });
  const user = `invalid-${randomUUID().slice(0, 8)}`;
  client.report({ type: 'login', outcome: 'success', user });
  // A field that looks like a secret: the collector refuses the event (it never stores one).
  client.report({ type: 'login', outcome: 'failure', user, attributes: { password: 'hunter2' } });
  client.report({ type: 'logout', outcome: 'success', user });
  expect(await client.flush(10_000)).toBe(true);
  expect(client.stats()).toMatchObject({ delivered: 2, rejected: 1 });
  expect((await storedIds(user)).length).toBe(2);
  expect(errors.join('\n')).toMatch(/refused 1 event/);
  // The refused value is not echoed into the app's logs.
  expect(errors.join('\n')).not.toContain('hunter2');
  await client.close();
});

test('one event the collector keeps failing on (5xx) is isolated and dropped; the next 10 are delivered', async () => {
  // A proxy in front of the real collector answers 500 to any batch holding the poisoned event,
  // as a store error would; everything else reaches the collector.
  const { createServer } = await import('node:http');
  const proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    if (body.includes('poison-marker')) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
      return;
    }
    const upstream = await fetch(collector.url + req.url, { method: req.method, headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' }, body: body || undefined });
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as { port: number }).port;
  const errors: string[] = [];
  const client = fastClient({ url: `http://127.0.0.1:${port}`, batchSize: 8, maxServerErrorRetries: 3, onError: (e) => errors.push(e.message) });
  const user = `poison-${randomUUID().slice(0, 8)}`;
  client.report({ type: 'access', outcome: 'success', user, attributes: { note: 'poison-marker' } });
  for (let i = 0; i < 10; i++) client.report({ id: `${user}-${i}`, type: 'access', outcome: 'success', user });
  expect(await client.flush(30_000)).toBe(true);
  expect(client.stats()).toMatchObject({ delivered: 10, rejected: 1, queued: 0 });
  expect((await storedIds(user)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${user}-${i}`).sort());
  expect(errors.filter((m) => /dropped it so later events flow/.test(m))).toHaveLength(1);
  await client.close();
  await new Promise((r) => proxy.close(r));
});

test('report() needs a user', () => {
  const client = fastClient();
  expect(() => client.report({ type: 'login', user: '' })).toThrow(/user is required/);
});
