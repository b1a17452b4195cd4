// The auth.log source end to end inside the real collector (pipeline, SQLite file, HTTP query
// API): a fixture imported once, idempotent re-import, stdin, and follow mode through appends,
// rotation (rename + new file) and truncation (copytruncate).
import { appendFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { KEYS, startServer, type TestServer } from '../../test/helpers/server';
import { AuthLogBatcher, pipelineSink, runAuthLogSource } from './authlog';
import { IMPORT_BATCH_LINES, startAuthLog } from './authlog-cli';
import { remoteSink } from './authlog-shipper';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const debian = readFileSync(join(FIXTURES, 'authlog-debian.log'), 'utf8');

async function events(s: TestServer, query = ''): Promise<Record<string, any>[]> {
  const r = await s.get(`/v1/events?limit=1000${query}`);
  expect(r.status).toBe(200);
  return r.body.events;
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

const line = (pid: number, user: string, ip: string) => `Nov 24 10:00:00 bastion-1 sshd[${pid}]: Failed password for ${user} from ${ip} port 4242 ssh2\n`;

describe('auth.log into the collector', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startServer();
  });
  afterEach(async () => {
    await s.stop(true);
  });

  test('a log read through into the collector goes in batches of 10,000 lines (a tenth of the commits); shipped to a collector, 1,000', async () => {
    const file = join(s.dir, 'big.log');
    writeFileSync(file, Array.from({ length: 25_000 }, (_, i) => line(10_000 + i, `u${i}`, '192.0.2.9')).join(''));
    const sizes: number[] = [];
    const pipeline = s.collector.pipeline;
    const submit = pipeline.submit.bind(pipeline);
    pipeline.submit = (body, opts) => (sizes.push((body as unknown[]).length), submit(body, opts));
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Parameters<typeof startAuthLog>[2];
    const opts = { path: file, follow: false, fromStart: true, once: true, timezone: 'UTC', to: undefined, key: undefined, journal: false, mode: 'normal' as const };
    const stats = await startAuthLog(opts, s.collector, quiet).done;
    expect(stats).toMatchObject({ lines: 25_000, events: 25_000, accepted: 25_000 });
    expect(sizes).toEqual([IMPORT_BATCH_LINES, IMPORT_BATCH_LINES, 5_000]);
    expect((await s.get('/v1/events?user=u24999&limit=1', 'read')).body.total).toBe(1);
    // Shipped to a collector (here the same one, over HTTP): 1,000 lines a request, bodies well under its limit.
    sizes.length = 0;
    const shipped = await startAuthLog({ ...opts, to: s.url, key: KEYS.ingest }, null, quiet).done;
    expect(shipped).toMatchObject({ lines: 25_000, events: 25_000, duplicates: 25_000 });
    expect(sizes).toEqual(Array(25).fill(1_000));
  });

  test('batches overlapping their commits keep the order: 5 failures, a success, 5 failures, 2 lines a batch, lock no one', async () => {
    const file = join(s.dir, 'burst.log');
    // A second apart, ending now (live, not a backfill): the success resets the count, so only a
    // reordering (a success counted after the failures that follow it) would reach 6 and lock.
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 30_000;
    const stamp = (t: number) => {
      const d = new Date(t);
      return `${d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' })} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    };
    const what = [...Array(5).fill('Failed password'), 'Accepted password', ...Array(5).fill('Failed password')];
    const lines = what.map((w, i) => `${stamp(t0 + i * 1000)} bastion-1 sshd[${7000 + i}]: ${w} for victim from 203.0.113.50 port 4242 ssh2`);
    writeFileSync(file, lines.join('\n') + '\n');
    const sink = pipelineSink(s.collector.pipeline);
    let queuedCalls = 0;
    const counting: typeof sink = (evs, queued) => sink(evs, queued && (() => (queuedCalls++, queued())));
    const stats = await runAuthLogSource({ path: file, follow: false, fromStart: true, sink: counting, timezone: 'UTC', maxLines: 2 });
    expect(stats).toMatchObject({ lines: 11, events: 11, accepted: 11 });
    expect(queuedCalls).toBe(6); // every batch told the batcher it held its place
    expect(await events(s, '&user=victim&type=login&outcome=failure')).toHaveLength(10);
    expect(await events(s, '&type=lockout')).toEqual([]);
    expect((await s.post('/v1/check', { user: 'victim', ip: '203.0.113.50' }, 'ingest')).body).toMatchObject({ allowed: true });
  });

  test('a fixture imported once: failures, logins with sessions, logouts ending them; re-import stores nothing twice', async () => {
    const file = join(s.dir, 'auth.log');
    writeFileSync(file, debian);
    const sink = pipelineSink(s.collector.pipeline);
    const stats = await runAuthLogSource({ path: file, follow: false, fromStart: true, sink, timezone: 'UTC', now: () => Date.parse('2026-11-24T12:00:00Z') });
    expect(stats).toEqual({ lines: 48, events: 21, accepted: 20, duplicates: 1, rejected: 0 });

    const failures = await events(s, '&type=login&outcome=failure&service=sshd');
    expect(failures).toHaveLength(14); // one per attempt (docs/sources.md)
    expect(failures.filter((e) => e.ip === '198.51.100.23').map((e) => e.reason).sort()).toEqual([
      // PAM line + Failed, "message repeated 3 times", and the one "PAM 4 more" says sshd did not log
      'invalid_password', 'invalid_password', 'invalid_password', 'invalid_password', 'invalid_password',
    ]);
    const v6 = failures.filter((e) => e.ip === '2001:db8:85a3::8a2e:370:7334');
    expect(v6.map((e) => [e.user, e.reason, new Date(e.time).toISOString()]).sort()).toEqual([
      ['test', 'invalid_user', '2026-11-24T09:17:02.000Z'], // "Invalid user" and its "Failed password": one attempt
    ]);

    // alice's first session and bob's ended by their logouts; carol's and alice's second stay open.
    const sessions = (await s.get('/v1/sessions?state=all')).body.sessions as { user: string; state: string; ip: string; id: string }[];
    expect(sessions.map((x) => `${x.user}:${x.state}`).sort()).toEqual(['alice:active', 'alice:ended', 'bob:ended', 'carol:active']);
    // Session ids are the keyed hash of host/sshd[pid], never the raw value.
    expect(sessions.map((x) => x.id)).toContain(s.collector.hashSessionId('bastion-1/sshd[21050]'));

    const again = await runAuthLogSource({ path: file, follow: false, fromStart: true, sink, timezone: 'UTC', now: () => Date.parse('2026-11-24T12:00:00Z') });
    expect(again).toMatchObject({ accepted: 0, duplicates: 21 });
    // (the collector's own session_end / lockout / detection events come on top)
    expect((await events(s)).filter((e) => e.id.startsWith('sshd-'))).toHaveLength(20);
  });

  test('stdin ("-"): read to the end, the last line without a newline too', async () => {
    const stdin = new PassThrough();
    const sink = pipelineSink(s.collector.pipeline);
    const run = runAuthLogSource({ path: '-', follow: false, fromStart: true, sink, stdin, timezone: 'UTC' });
    stdin.write(line(1, 'root', '192.0.2.1'));
    stdin.write(line(2, 'root', '192.0.2.2').slice(0, 30));
    stdin.end(line(2, 'root', '192.0.2.2').slice(30).trimEnd());
    expect(await run).toMatchObject({ lines: 2, accepted: 2 });
    expect((await events(s)).map((e) => e.ip).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  test('follow: starts at the end, picks up appends, survives rotation and truncation', async () => {
    const file = join(s.dir, 'auth.log');
    writeFileSync(file, line(1, 'old', '192.0.2.200')); // before we start: not read without --from-start
    const abort = new AbortController();
    const reopens: string[] = [];
    const log = { info: (msg: string, f?: Record<string, unknown>) => void (msg === 'authlog: reopened' && reopens.push(String(f?.why))), warn: () => undefined, error: () => undefined };
    const sink = pipelineSink(s.collector.pipeline);
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const run = runAuthLogSource({ path: file, follow: true, fromStart: false, sink, signal: abort.signal, pollMs: 30, timezone: 'UTC', maxWaitMs: 20, log, onReady: ready });
    // Append once the follower holds its starting position (a fixed sleep raced with it under load).
    await started;
    appendFileSync(file, line(2, 'u1', '192.0.2.1'));
    await waitFor(() => events(s), (l) => l.length === 1, 'the appended line');

    // logrotate (create): the old file gets one more line after the rename, then a new file appears.
    renameSync(file, file + '.1');
    appendFileSync(file + '.1', line(3, 'u2', '192.0.2.2'));
    writeFileSync(file, line(4, 'u3', '192.0.2.3'));
    await waitFor(() => events(s), (l) => l.length === 3, 'the line written to the rotated file and the new file');

    // logrotate copytruncate: the same inode shrinks to nothing, then grows again.
    await new Promise((r) => setTimeout(r, 100));
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, line(5, 'u4', '192.0.2.4'));
    await waitFor(() => events(s), (l) => l.length === 4, 'the line after truncation');

    abort.abort();
    const stats = await run;
    expect(stats).toMatchObject({ accepted: 4, duplicates: 0 });
    expect(reopens).toEqual(['rotated', 'truncated']);
    expect((await events(s)).map((e) => e.user).sort()).toEqual(['u1', 'u2', 'u3', 'u4']);
  });

  test('shipper mode (--authlog-to): the same events reach a remote collector over POST /v1/events; a wrong key is counted as rejected', async () => {
    const file = join(s.dir, 'auth.log');
    writeFileSync(file, debian);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const stats = await runAuthLogSource({ path: file, follow: false, fromStart: true, timezone: 'UTC', sink: remoteSink(s.url, KEYS.ingest, quiet) });
    expect(stats).toEqual({ lines: 48, events: 21, accepted: 20, duplicates: 1, rejected: 0 });
    const stored = (await events(s)).filter((e) => e.id.startsWith('sshd-'));
    expect(stored).toHaveLength(20);
    // The remote collector hashed the session id it received, as for any client.
    expect(stored.filter((e) => e.session_id === s.collector.hashSessionId('bastion-1/sshd[21050]')).map((e) => e.type).sort()).toEqual(['login', 'logout']);
    const refused = await runAuthLogSource({ path: file, follow: false, fromStart: true, timezone: 'UTC', sink: remoteSink(s.url, KEYS.read, quiet) });
    expect(refused).toMatchObject({ accepted: 0, rejected: 21 });
  });

  test('shipper mode: while the remote collector answers 5xx the batch is retried (0.5 s, then 1 s) until it is stored', async () => {
    // A proxy in front of the real collector that fails the first two POSTs.
    let failures = 2;
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (failures-- > 0) return void res.writeHead(503).end('{"error":"down"}');
      const r = await fetch(new URL(req.url!, s.url), { method: req.method, headers: { 'content-type': 'application/json', authorization: req.headers.authorization! }, body: Buffer.concat(chunks) });
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const file = join(s.dir, 'auth-retry.log');
      writeFileSync(file, line(7001, 'retry-a', '192.0.2.71') + line(7002, 'retry-b', '192.0.2.72'));
      const warnings: Record<string, unknown>[] = [];
      const log = { info: () => undefined, warn: (_m: string, f?: Record<string, unknown>) => void warnings.push(f ?? {}), error: () => undefined };
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const stats = await runAuthLogSource({ path: file, follow: false, fromStart: true, timezone: 'UTC', sink: remoteSink(url, KEYS.ingest, log) });
      expect(stats).toMatchObject({ events: 2, accepted: 2, rejected: 0 });
      expect(warnings.map((w) => w.retry_ms)).toEqual([500, 1000]);
      expect((await events(s, '&user=retry-a&user=retry-b')).map((e) => e.user).sort()).toEqual(['retry-a', 'retry-b']);
    } finally {
      proxy.close();
    }
  });

  test('a sink that keeps order gets the next batch while one commits (at most 3 held); flush waits for all', async () => {
    const log: string[] = [];
    const pending: (() => void)[] = [];
    let held = 0;
    let maxHeld = 0;
    const b = new AuthLogBatcher({
      maxLines: 1,
      timezone: 'UTC',
      sink: (evs, queued) => {
        log.push(`send ${evs[0].user}`);
        held++;
        maxHeld = Math.max(maxHeld, held);
        queued?.();
        return new Promise((resolve) => pending.push(() => (held--, log.push(`durable ${evs[0].user}`), resolve({ accepted: 1, duplicates: 0, rejected: 0 }))));
      },
    });
    const pushed = b.push(['u0', 'u1', 'u2', 'u3', 'u4'].map((u, i) => line(i, u, '192.0.2.9').trimEnd()));
    // Commits finish one at a time, in order, whenever the batcher has handed over what it may.
    const release = setInterval(() => pending.shift()?.(), 5);
    await pushed;
    const flushed = b.flush();
    await flushed;
    clearInterval(release);
    expect(log.filter((l) => l.startsWith('send'))).toEqual(['send u0', 'send u1', 'send u2', 'send u3', 'send u4']);
    expect(log.indexOf('send u1')).toBeLessThan(log.indexOf('durable u0')); // overlapped
    expect(maxHeld).toBe(3);
    expect(log.filter((l) => l.startsWith('durable'))).toHaveLength(5); // flush waited for every one
    expect(b.stats).toMatchObject({ lines: 5, events: 5, accepted: 5 });
  });

  test('a sink that does not say "queued" (the remote shipper) gets one batch at a time', async () => {
    let held = 0;
    let maxHeld = 0;
    const b = new AuthLogBatcher({
      maxLines: 1,
      timezone: 'UTC',
      sink: async () => {
        maxHeld = Math.max(maxHeld, ++held);
        await new Promise((r) => setTimeout(r, 2));
        held--;
        return { accepted: 1, duplicates: 0, rejected: 0 };
      },
    });
    await b.push(['a', 'b', 'c', 'd'].map((u, i) => line(i, u, '192.0.2.9').trimEnd()));
    await b.flush();
    expect(maxHeld).toBe(1);
  });

  test('batches hold at most maxLines lines', async () => {
    const sizes: number[] = [];
    const b = new AuthLogBatcher({ sink: async (evs) => (sizes.push(evs.length), { accepted: evs.length, duplicates: 0, rejected: 0 }), maxLines: 3, timezone: 'UTC' });
    await b.push(Array.from({ length: 7 }, (_, i) => line(i, 'x', '192.0.2.9').trimEnd()));
    await b.flush();
    expect(sizes).toEqual([3, 3, 1]);
    expect(b.stats).toMatchObject({ lines: 7, events: 7, accepted: 7 });
  });
});
