// The SQLite worker store formats the CSV export in its reader thread (streamCsv). Its lines must
// be byte for byte what the export formats on the event-loop thread from streamEvents (the path
// PostgreSQL takes): formula cells neutralised, quoting, hidden details blanked, limits and order
// kept, across chunk boundaries. An export abandoned part-way does not disturb the next.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { csvLines } from '../src/schema/csv';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { SqliteWorkerStore } from '../src/store/sqlite-worker';
import type { EventFilter } from '../src/store/store';
import { tempDir } from './helpers/server';
import { seeded } from './helpers/seeded';

const { int: rnd, pick } = seeded(23);
const T0 = Date.parse('2026-05-01T00:00:00Z');
const N = 700;
// Values an attacker controls, as the export must neutralise or quote them.
const HOSTILE = ['=HYPERLINK("http://x","y")', '+1', '-2+3', '@SUM(A1)', '\tcmd', '\r=1', 'a,b', 'say "hi"', 'line\nbreak', 'Zoë', '＝1', '−1', 'plain'];

let store: SqliteWorkerStore;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  store = await SqliteWorkerStore.open(join(dir, 'csv.db'));
  const events: StoredEvent[] = Array.from({ length: N }, (_, i) =>
    blankEvent({
      id: `c${i}`,
      time: T0 + i * 1000 + rnd(500),
      type: pick(['login', 'access', 'logout'] as const),
      outcome: pick(['success', 'failure', null] as const),
      user: pick(HOSTILE),
      ip: pick(['192.0.2.7', '2001:db8::9', null]),
      country: pick(['NL', null]),
      city: pick(['Utrecht', null]),
      latitude: 52.09,
      longitude: 5.12,
      asn: 64500,
      isp: pick(HOSTILE),
      user_agent: pick(HOSTILE),
      service: pick(['portal', '=cmd|" /C calc"!A0']),
      attributes: rnd(2) ? { note: pick(HOSTILE), 'geo.city': 'Utrecht' } : null,
    }),
  );
  await store.write((tx) => tx.insertEvents(events));
}, 60_000);

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function viaThread(filter: EventFilter, order: 'asc' | 'desc', hide: boolean, limit: number): Promise<string> {
  let out = '';
  for await (const text of store.streamCsv(filter, order, { hide, limit })) out += text;
  return out;
}

async function viaLoop(filter: EventFilter, order: 'asc' | 'desc', hide: boolean, limit: number): Promise<string> {
  const rows: StoredEvent[] = [];
  for await (const e of store.streamEvents(filter, order)) {
    if (rows.length >= limit) break;
    rows.push(e);
  }
  return csvLines(rows, hide);
}

test.each([1, 255, 256, 257, 512, N - 1, N, Number.MAX_SAFE_INTEGER])('limit %d: the same lines as formatting streamEvents, both orders, details hidden or not', async (limit) => {
  for (const order of ['asc', 'desc'] as const) {
    for (const hide of [false, true]) {
      const a = await viaThread({}, order, hide, limit);
      expect(a).toBe(await viaLoop({}, order, hide, limit));
      expect(a.split('\r\n').length - 1).toBeGreaterThanOrEqual(Math.min(limit, N));
    }
  }
});

test('filters apply; formulas are neutralised and hidden details are blank in the thread-formatted lines', async () => {
  const filter: EventFilter = { type: ['login'], outcome: ['failure'] };
  const shown = await viaThread(filter, 'asc', false, Number.MAX_SAFE_INTEGER);
  expect(shown).toBe(await viaLoop(filter, 'asc', false, Number.MAX_SAFE_INTEGER));
  expect(shown).toContain("'=HYPERLINK");
  expect(shown).not.toMatch(/(^|,)=HYPERLINK/m);
  expect(shown).toContain('192.0.2.7');
  const hidden = await viaThread(filter, 'asc', true, Number.MAX_SAFE_INTEGER);
  expect(hidden).not.toContain('192.0.2.7');
  expect(hidden).not.toContain('Utrecht');
  expect(hidden.split('\r\n').length).toBe(shown.split('\r\n').length);
});

test('exports abandoned after their first chunk leave the next export whole', async () => {
  for (let i = 0; i < 3; i++) {
    for await (const text of store.streamCsv({}, 'desc', { hide: false, limit: Number.MAX_SAFE_INTEGER })) {
      expect(text.length).toBeGreaterThan(0);
      break;
    }
  }
  const whole = await viaThread({}, 'desc', false, Number.MAX_SAFE_INTEGER);
  expect(whole.split('\r\n').length - 1).toBeGreaterThanOrEqual(N);
  expect(whole).toBe(await viaLoop({}, 'desc', false, Number.MAX_SAFE_INTEGER));
});
