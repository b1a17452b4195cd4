// Inputs other than a plain syslog file: `journalctl -o json`, journald's bare lines, gzip-rotated
// logs (file and stdin), and what is refused with a clear message (binary data, other
// compressors, corrupt gzip). readAuthLogSource is checked on its own and the imports through a
// real collector (pipeline, SQLite, HTTP API).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { startServer, tempDir as newTempDir, type TestServer } from '../../test/helpers/server';
import { pipelineSink, runAuthLogSource } from './authlog';
import { MAX_LINE } from './authlog-follow';
import { AuthLogInputError, readAuthLogSource } from './authlog-input';
import type { AuthLogEvent } from './authlog-parse';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const dirs: string[] = [];
const tempDir = () => (dirs.push(newTempDir()), dirs[dirs.length - 1]);
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const NOW = Date.parse('2026-11-24T12:00:00Z');

async function all(path: string, opts: Parameters<typeof readAuthLogSource>[1] = {}): Promise<{ events: AuthLogEvent[]; stats: ReturnType<typeof readAuthLogSource>['stats'] }> {
  const src = readAuthLogSource(path, { timezone: 'UTC', now: () => NOW, ...opts });
  const events: AuthLogEvent[] = [];
  for await (const batch of src) events.push(...batch);
  return { events, stats: src.stats };
}

const summary = (evs: AuthLogEvent[]) => evs.map((e) => `${e.type}:${e.outcome}:${e.reason}:${e.user}@${e.ip}`);

describe('readAuthLogSource', () => {
  test('journalctl -o json: time from __REALTIME_TIMESTAMP, host, pid, sshd-session, byte-array MESSAGE; other programs skipped', async () => {
    const { events, stats } = await all(join(FIXTURES, 'authlog-journal.json'));
    expect(summary(events)).toEqual([
      'login:failure:invalid_user:admin@203.0.113.50',
      'login:failure:invalid_password:root@2001:db8:77::5',
      'login:failure:invalid_user:j\\366rg@198.51.100.70',
      'login:success:null:alice@192.0.2.60',
    ]);
    expect(events[0]).toMatchObject({ time: Date.parse('2026-11-24T09:30:00.123Z'), attributes: { host: 'srv', pid: 13709, port: 40001 } });
    expect(stats).toMatchObject({ lines: 12, events: 4, malformed: 0 });
    // Ids come from the journal cursors: reading again gives the same ids.
    expect((await all(join(FIXTURES, 'authlog-journal.json'))).events.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  test('--authlog-journal (journal: true): lines that are not journald JSON are counted, not parsed', async () => {
    const dir = tempDir();
    const file = join(dir, 'mixed.json');
    writeFileSync(file, readFileSync(join(FIXTURES, 'authlog-journal.json'), 'utf8') + 'Nov 24 10:00:00 gw sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2\n{"not": "closed"\n');
    const strict = await all(file, { journal: true });
    expect(strict.events).toHaveLength(4);
    expect(strict.stats.malformed).toBe(2);
    const auto = await all(file);
    expect(auto.events).toHaveLength(5); // the syslog line too
    expect(auto.stats.malformed).toBe(1);
  });

  test('bare journald lines ("srv sshd[pid]: …") import with the receive time', async () => {
    const { events } = await all(join(FIXTURES, 'authlog-journal-bare.log'));
    expect(summary(events)).toEqual([
      'login:failure:invalid_user:admin@203.0.113.50',
      'login:failure:invalid_password:root@2001:db8:77::5',
      'login:failure:invalid_password:root@2001:db8:77::5',
      'login:success:null:alice@192.0.2.60',
    ]);
    expect(new Set(events.map((e) => e.time))).toEqual(new Set([NOW]));
  });

  test('a .gz file and gzip on stdin read as the plain file does', async () => {
    const dir = tempDir();
    const plain = readFileSync(join(FIXTURES, 'authlog-debian.log'));
    writeFileSync(join(dir, 'auth.log.2.gz'), gzipSync(plain));
    writeFileSync(join(dir, 'no-suffix'), gzipSync(plain)); // recognised by content, not by name
    const want = (await all(join(FIXTURES, 'authlog-debian.log'))).events;
    expect(want.length).toBeGreaterThan(10);
    expect((await all(join(dir, 'auth.log.2.gz'))).events).toEqual(want);
    expect((await all(join(dir, 'no-suffix'))).events).toEqual(want);
    const stdin = new PassThrough();
    const reading = all('-', { stdin });
    const gz = gzipSync(plain);
    // A pipe delivers a few bytes at a time: the magic number is split too.
    stdin.write(gz.subarray(0, 1));
    setTimeout(() => stdin.end(gz.subarray(1)), 20);
    expect((await reading).events).toEqual(want);
  });

  test('binary data, other compressors and corrupt gzip fail with a message that says what the file is', async () => {
    const dir = tempDir();
    const cases: [string, Buffer, RegExp][] = [
      ['wtmp', Buffer.concat([Buffer.from('\u0007\u0000\u0000\u0000'), Buffer.alloc(380)]), /wtmp is not a text log: binary data \(a NUL byte at offset 1\)/],
      ['auth.log.zst', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]), /auth\.log\.zst is zstd-compressed: decompress it first \(zstdcat/],
      ['auth.log.xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 9]), /is xz-compressed/],
      ['random', Buffer.from(Array.from({ length: 4096 }, (_, i) => ((i * 7919) % 251) + 1)), /random is not a text log: binary data \(\d+ of its first \d+ characters are not text\)/],
      ['auth.log.1.gz', gzipSync(readFileSync(join(FIXTURES, 'authlog-debian.log'))).subarray(0, 200), /auth\.log\.1\.gz: the gzip data is corrupt or truncated/],
      ['binary.gz', gzipSync(Buffer.alloc(1000)), /binary\.gz \(decompressed\) is not a text log: binary data/],
    ];
    for (const [name, bytes, message] of cases) {
      writeFileSync(join(dir, name), bytes);
      const err = await all(join(dir, name)).then(() => null, (e: unknown) => e);
      expect([name, err instanceof AuthLogInputError ? (err as Error).message : String(err)]).toEqual([name, expect.stringMatching(message)]);
    }
  });

  test(`a line longer than ${MAX_LINE} bytes is dropped, not buffered; the lines around it are read`, async () => {
    const dir = tempDir();
    const file = join(dir, 'long.log');
    const ok = 'Nov 24 10:00:00 gw sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2';
    writeFileSync(file, `${ok}\nNov 24 10:00:01 gw sshd[2]: Failed password for ${'x'.repeat(3 * MAX_LINE)} from 192.0.2.2 port 2 ssh2\n${ok.replace('sshd[1]', 'sshd[3]')}\n`);
    expect(summary((await all(file)).events)).toEqual(['login:failure:invalid_password:root@192.0.2.1', 'login:failure:invalid_password:root@192.0.2.1']);
  });
});

describe('imports into the collector', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startServer();
  });
  afterEach(async () => {
    await s.stop(true);
  });

  async function stored(): Promise<Record<string, any>[]> {
    const r = await s.get('/v1/events?limit=1000&service=sshd');
    expect(r.status).toBe(200);
    return (r.body.events as Record<string, any>[]).filter((e) => e.id.startsWith('sshd-'));
  }

  test('journalctl -o json into the pipeline; a second import stores nothing twice', async () => {
    const sink = pipelineSink(s.collector.pipeline);
    const file = join(FIXTURES, 'authlog-journal.json');
    expect(await runAuthLogSource({ path: file, follow: false, fromStart: true, journal: true, sink, now: () => NOW })).toEqual({ lines: 12, events: 4, accepted: 4, duplicates: 0, rejected: 0 });
    const evs = await stored();
    expect(evs.map((e) => [e.user, e.ip, e.reason, new Date(e.time).toISOString()]).sort()).toEqual([
      ['admin', '203.0.113.50', 'invalid_user', '2026-11-24T09:30:00.123Z'],
      ['alice', '192.0.2.60', null, '2026-11-24T09:30:09.123Z'],
      ['j\\366rg', '198.51.100.70', 'invalid_user', '2026-11-24T09:30:06.123Z'],
      ['root', '2001:db8:77::5', 'invalid_password', '2026-11-24T09:30:05.123Z'],
    ]);
    expect(await runAuthLogSource({ path: file, follow: false, fromStart: true, journal: true, sink, now: () => NOW })).toMatchObject({ accepted: 0, duplicates: 4 });
  });

  test('bare journald lines from stdin (journalctl -f | … --authlog -) get the receive time', async () => {
    const sink = pipelineSink(s.collector.pipeline);
    const stdin = new PassThrough();
    const before = Date.now();
    const run = runAuthLogSource({ path: '-', follow: true, fromStart: true, sink, stdin });
    stdin.end(readFileSync(join(FIXTURES, 'authlog-journal-bare.log')));
    expect(await run).toMatchObject({ lines: 10, events: 4, accepted: 4, rejected: 0 });
    const evs = await stored();
    expect(evs).toHaveLength(4);
    for (const e of evs) expect(e.time).toBeGreaterThanOrEqual(before);
  });

  test('--authlog-journal FILE --follow: journald JSON appended to a followed file is read as it comes', async () => {
    const dir = tempDir();
    const file = join(dir, 'journal.json');
    const records = readFileSync(join(FIXTURES, 'authlog-journal.json'), 'utf8').trimEnd().split('\n');
    writeFileSync(file, records.slice(0, 5).join('\n') + '\n'); // before the start: not read
    const abort = new AbortController();
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    const sink = pipelineSink(s.collector.pipeline);
    const run = runAuthLogSource({ path: file, follow: true, fromStart: false, journal: true, sink, signal: abort.signal, pollMs: 30, maxWaitMs: 20, now: () => NOW, onReady: ready });
    await started;
    writeFileSync(file, records.slice(5).join('\n') + '\n', { flag: 'a' });
    for (const end = Date.now() + 15_000; (await stored()).length < 3 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 40));
    abort.abort();
    expect(await run).toMatchObject({ lines: 7, events: 3, accepted: 3 });
    expect((await stored()).map((e) => e.user).sort()).toEqual(['alice', 'j\\366rg', 'root']);
  });

  test('the injection fixture through the pipeline: stored failures are for 203.0.113.5, none for 10.0.0.1', async () => {
    const sink = pipelineSink(s.collector.pipeline);
    const stats = await runAuthLogSource({ path: join(FIXTURES, 'authlog-injection.log'), follow: false, fromStart: true, sink, timezone: 'UTC', now: () => NOW, mode: 'aggressive' });
    expect(stats).toMatchObject({ events: 20, accepted: 20, rejected: 0 });
    const byIp = async (ip: string) => ((await s.get(`/v1/events?limit=1000&type=login&outcome=failure&ip=${encodeURIComponent(ip)}`)).body.events as unknown[]).length;
    expect(await byIp('203.0.113.5')).toBe(19);
    expect(await byIp('10.0.0.1')).toBe(0);
    expect(JSON.stringify(await stored())).not.toMatch(/"ip":"10\.0\.0\.1"/);
  });

  test('a .gz rotated log imports like the plain one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'auth.log.2.gz'), gzipSync(readFileSync(join(FIXTURES, 'authlog-debian.log'))));
    const sink = pipelineSink(s.collector.pipeline);
    expect(await runAuthLogSource({ path: join(dir, 'auth.log.2.gz'), follow: false, fromStart: true, sink, timezone: 'UTC', now: () => NOW })).toEqual({
      lines: 48, events: 21, accepted: 20, duplicates: 1, rejected: 0,
    });
    await expect(runAuthLogSource({ path: join(dir, 'auth.log.2.gz'), follow: true, fromStart: true, sink })).rejects.toThrow(/gzip-compressed: --follow reads a growing plain log/);
  });
});
