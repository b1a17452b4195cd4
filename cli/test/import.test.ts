// `authwatch import` against real collector processes: auth.log (plain, .gz, stdin), journald
// JSON, NDJSON, JSON and the collector's own CSV export; what lands is read back through the API.
// Piped, progress is plain periodic lines; under a pseudo-terminal (util-linux `script`) it is a
// progress bar with lines, events/s and ETA.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildIfStale, CLI, cli, cliEnv, getJson, KEYS, startCollector, type Collector } from './helpers';

const FIXTURES = join(__dirname, '..', '..', 'collector', 'test', 'fixtures');
const DEBIAN = join(FIXTURES, 'authlog-debian.log');

let c: Collector;
let env: Record<string, string>;

beforeAll(async () => {
  buildIfStale();
  c = await startCollector();
  env = { AUTHWATCH_URL: c.url, AUTHWATCH_KEY: KEYS.admin, AUTHWATCH_INGEST_KEY: KEYS.ingest };
}, 240_000);
afterAll(async () => {
  await c?.stop();
});

interface Summary {
  lines: number;
  events: number;
  accepted: number;
  duplicates: number;
  refused: number;
  skipped: number;
}

function summary(out: string, name: string): Summary {
  const m = new RegExp(`^import: ${name.replace(/\./g, '\\.')}: (\\d+) lines, (\\d+) events: (\\d+) accepted, (\\d+) duplicates, (\\d+) refused, (\\d+) skipped in [\\d.]+ s \\(\\d+ events/s\\)$`, 'm').exec(out);
  if (!m) throw new Error(`no summary line for ${name} in:\n${out}`);
  const [lines, events, accepted, duplicates, refused, skipped] = m.slice(1).map(Number);
  return { lines, events, accepted, duplicates, refused, skipped };
}

/** The events the auth.log parser made (its ids start with "sshd-"; the collector adds session_end events of its own). */
async function sshdEvents(url: string): Promise<Array<{ id: string; user: string; ip: string; outcome: string }>> {
  const page = await getJson<{ events: Array<{ id: string; user: string; ip: string; outcome: string }> }>(url, '/v1/events?service=sshd&limit=1000&order=asc');
  return page.events.filter((e) => e.id.startsWith('sshd-'));
}

test('auth.log piped: the collector\'s own parser counts it; a second import and the .gz of it store nothing twice', async () => {
  const r = await cli(['import', DEBIAN, '--authlog-tz', 'UTC'], env);
  expect(r.code).toBe(0);
  const s = summary(r.stdout, 'authlog-debian.log');
  expect(s.lines).toBe(readFileSync(DEBIAN, 'utf8').split('\n').filter(Boolean).length);
  expect(s.events).toBeGreaterThan(10);
  expect(s.refused).toBe(0);
  const stored = await sshdEvents(c.url);
  expect(stored).toHaveLength(s.accepted);
  expect(s.accepted + s.duplicates).toBe(s.events);
  // No terminal: no bar, no escape codes.
  expect(r.stderr).not.toMatch(/\x1b\[/);

  const again = summary((await cli(['import', DEBIAN, '--authlog-tz', 'UTC'], env)).stdout, 'authlog-debian.log');
  expect(again).toMatchObject({ lines: s.lines, events: s.events, accepted: 0, duplicates: s.events });
  const gz = join(c.dir, 'auth.log.2.gz');
  writeFileSync(gz, gzipSync(readFileSync(DEBIAN)));
  const packed = summary((await cli(['import', gz, '--authlog-tz', 'UTC'], env)).stdout, 'auth.log.2.gz');
  expect(packed).toMatchObject({ lines: s.lines, accepted: 0, duplicates: s.events });
  // From stdin as well (-), gzip recognised by its magic bytes.
  const stdin = summary((await cli(['import', '-', '--authlog-tz', 'UTC'], env, gzipSync(readFileSync(DEBIAN)))).stdout, 'stdin');
  expect(stdin).toMatchObject({ lines: s.lines, accepted: 0, duplicates: s.events });
});

test('journald JSON (journalctl -o json) from stdin: the sshd records become the same kinds of events', async () => {
  const c2 = await startCollector();
  try {
    const MON: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
    const year = new Date().getUTCFullYear() - (new Date().getUTCMonth() < 10 ? 1 : 0);
    const records = readFileSync(DEBIAN, 'utf8')
      .split('\n')
      .map((l) => /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\S+) ([^[:]+)(?:\[(\d+)\])?: (.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m, i) => ({
        __CURSOR: `s=abc;i=${i}`,
        __REALTIME_TIMESTAMP: String(Date.UTC(year, MON[m[1]], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) * 1000),
        _HOSTNAME: m[6],
        SYSLOG_IDENTIFIER: m[7],
        _PID: m[8],
        // journald keeps messages that are not UTF-8 as byte arrays.
        MESSAGE: i % 2 ? [...Buffer.from(m[9])] : m[9],
      }));
    const r = await cli(['import', '-'], { ...env, AUTHWATCH_URL: c2.url }, records.map((x) => JSON.stringify(x)).join('\n') + '\n');
    expect(r.code).toBe(0);
    const j = summary(r.stdout, 'stdin');
    expect(j.lines).toBe(records.length);
    const fromJournal = await sshdEvents(c2.url);
    expect(fromJournal.length).toBe(j.accepted);
    // The same logins, failures and addresses as the auth.log file gives.
    const fromFile = await sshdEvents(c.url);
    const shape = (evs: typeof fromFile) => evs.map((e) => `${e.user} ${e.ip} ${e.outcome}`).sort();
    expect(shape(fromJournal)).toEqual(shape(fromFile));
  } finally {
    await c2.stop();
  }
});

test('NDJSON and JSON events: collector-made kinds are skipped, a bad event is refused (exit 1) and the rest stored', async () => {
  const ndjson = join(c.dir, 'events.ndjson');
  writeFileSync(
    ndjson,
    [
      { id: 'n1', type: 'login', outcome: 'success', user: 'nina', ip: '198.51.100.1', time: new Date(Date.now() - 60_000).toISOString() },
      { id: 'n2', type: 'lockout', user: 'nina' },
      { id: 'n3', type: 'login', outcome: 'maybe', user: 'nina' },
      { id: 'n4', type: 'logout', user: 'nina', country: 'FR', received_at: 1 },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n') + '\nnot json\n',
  );
  const r = await cli(['import', ndjson], env);
  expect(r.code).toBe(1);
  expect(summary(r.stdout, 'events.ndjson')).toMatchObject({ lines: 5, events: 3, accepted: 2, refused: 2, skipped: 1 });
  expect(r.stderr).toMatch(/2 events were refused by the collector; first reasons:\n  line 5: not JSON\n  event 2: outcome/);
  const nina = await getJson<{ events: Array<{ id: string; country: string | null }> }>(c.url, '/v1/events?user=nina&order=asc');
  expect(nina.events.map((e) => e.id)).toEqual(['n1', 'n4']);

  // GET /v1/events as it answers, saved and imported: everything is already there.
  const doc = join(c.dir, 'page.json');
  writeFileSync(doc, JSON.stringify(await getJson(c.url, '/v1/events?user=nina')));
  expect(summary((await cli(['import', doc], env)).stdout, 'page.json')).toMatchObject({ lines: 2, events: 2, accepted: 0, duplicates: 2 });
});

test('CSV exported by authwatch events --csv imports into another collector: same ids, times, users; formula cells come back whole', async () => {
  const t = Date.now() - 5 * 60_000;
  const res = await fetch(`${c.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.ingest}` },
    body: JSON.stringify([
      { id: 'x1', time: t, type: 'login', outcome: 'failure', reason: 'invalid_password', user: '=HYPERLINK("x")', ip: '198.51.100.77', attributes: { attempt: 1, mfa: false } },
      { id: 'x2', time: t + 1, type: 'access', user: 'ximena', service: 'reports, "monthly"', user_agent: 'curl/8.5.0' },
      // Formula starts only the export's wider rule knows: full-width, the minus sign, leading space, zero-width.
      { id: 'x3', time: t + 2, type: 'access', user: '＝SUM(A1)', service: ' −1', user_agent: '\u200bcurl/8.5.0' },
    ]),
  });
  expect(res.status).toBe(202);
  const exported = await cli(['events', '--csv', '--since', '1h', '--order', 'asc'], env);
  expect(exported.code).toBe(0);
  const file = join(c.dir, 'export.csv');
  writeFileSync(file, exported.stdout);
  const c2 = await startCollector();
  try {
    const r = await cli(['import', file], { ...env, AUTHWATCH_URL: c2.url });
    expect(r.code).toBe(0);
    const s = summary(r.stdout, 'export.csv');
    const source = await getJson<{ events: Array<Record<string, unknown>> }>(c.url, '/v1/events?from=' + (Date.now() - 3600_000) + '&order=asc&limit=1000');
    const wanted = source.events.filter((e) => !['lockout', 'unlock', 'detection', 'admin'].includes(e.type as string));
    expect(s).toMatchObject({ events: wanted.length, accepted: wanted.length, refused: 0, skipped: source.events.length - wanted.length });
    const copy = await getJson<{ events: Array<Record<string, unknown>> }>(c2.url, '/v1/events?order=asc&limit=1000');
    const pick = (e: Record<string, unknown>) => [e.id, e.time, e.type, e.outcome, e.reason, e.user, e.ip, e.service, e.user_agent, JSON.stringify(e.attributes)];
    expect(copy.events.filter((e) => e.type !== 'detection' && e.type !== 'lockout').map(pick)).toEqual(wanted.map(pick));
    expect(copy.events.find((e) => e.id === 'x1')).toMatchObject({ user: '=HYPERLINK("x")', attributes: { attempt: 1, mfa: false } });
    expect(copy.events.find((e) => e.id === 'x3')).toMatchObject({ user: '＝SUM(A1)', service: ' −1', user_agent: '\u200bcurl/8.5.0' });
  } finally {
    await c2.stop();
  }
});

/** sshd failures in RFC 3339 syslog form: one failed login each, from a spread of addresses. */
function bigAuthLog(lines: number): string {
  const start = Date.now() - 3600_000;
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const t = new Date(start + i * 100).toISOString();
    out.push(`${t} bastion sshd[${10_000 + i}]: Failed password for invalid user guest${i % 500} from 203.0.${(i >> 8) & 255}.${i & 255} port ${30_000 + (i % 20_000)} ssh2`);
  }
  return out.join('\n') + '\n';
}

test('piped, a long import reports progress as plain periodic lines on stderr (percent, lines, events, events/s, ETA)', async () => {
  const file = join(c.dir, 'big.log');
  writeFileSync(file, bigAuthLog(20_000));
  const r = await cli(['import', file, '--every', '100ms'], env);
  expect(r.code).toBe(0);
  const s = summary(r.stdout, 'big.log');
  expect(s).toMatchObject({ lines: 20_000, events: 20_000, refused: 0 });
  const progress = r.stderr.split('\n').filter((l) => l.startsWith('import: big.log (authlog): '));
  console.log(`piped import of 20,000 lines: ${r.stdout.trim()}; ${progress.length} progress lines, e.g. "${progress[Math.floor(progress.length / 2)]}"`);
  expect(progress.length).toBeGreaterThan(0);
  for (const l of progress) expect(l).toMatch(/^import: big\.log \(authlog\): \d+% of [\d.]+ (kB|MB), \d+ lines, \d+ events, \d+ events\/s, ETA (\?|[\dhms ]+)$/);
  expect(r.stderr + r.stdout).not.toMatch(/\x1b/);
});

test('on a terminal (a pseudo-terminal from util-linux script) the import draws a progress bar with lines, events/s and ETA', async () => {
  const file = join(c.dir, 'tty.log');
  writeFileSync(file, bigAuthLog(5_000).replace(/bastion/g, 'tty-host'));
  const cmd = `${process.execPath} ${CLI} import ${file}`;
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { env: cliEnv(env), encoding: 'utf8', timeout: 120_000 });
  expect(r.status).toBe(0);
  const screen = r.stdout;
  // cli-progress redraws one line: cursor to column 1, the bar, clear to the end of the line.
  expect(screen).toMatch(/\x1b\[1Gtty\.log \(authlog\) \[[█░]{30}\] \d+% \| \d+ lines \| \d+ events \| \d+ events\/s \| ETA \S+/);
  expect(screen).toMatch(/\[█{30}\] 100% \| 5000 lines \| 5000 events/);
  expect(summary(screen.replace(/\r/g, ''), 'tty.log')).toMatchObject({ lines: 5_000, events: 5_000 });
});

test('a missing file is exit 3, a bad --format or --batch is exit 2, a binary file exit 1; nothing is sent', async () => {
  const missing = await cli(['import', join(c.dir, 'nope.log')], env);
  expect(missing.code).toBe(3);
  expect(missing.stderr).toMatch(/nope\.log: no such file/);
  expect((await cli(['import', DEBIAN, '--format', 'xml'], env)).code).toBe(2);
  expect((await cli(['import', DEBIAN, '--batch', '0'], env)).code).toBe(2);
  expect((await cli(['import', DEBIAN, '--authlog-tz', 'Mars/Olympus'], env)).stderr).toMatch(/unknown timezone "Mars\/Olympus"/);
  // Not a log at all: the collector's reader says what it is, and nothing is sent.
  const binary = join(c.dir, 'journal.bin');
  writeFileSync(binary, Buffer.from([0x4c, 0x50, 0x4b, 0x53, 0x48, 0x48, 0x52, 0x48, 0, 0, 0, 1, 2, 3]));
  const bin = await cli(['import', binary], env);
  expect(bin.code).toBe(1);
  expect(bin.stderr).toMatch(/journal\.bin is not a text log: binary data/);
  const readOnly = await cli(['import', DEBIAN, '--key', KEYS.read], env);
  expect(readOnly.code).toBe(3);
  expect(readOnly.stderr).toMatch(/403/);
});
