// Durability under kill -9: a client posts batches with unique ids and remembers every id the
// collector acknowledged with 202; the collector is SIGKILLed at random moments and restarted on
// the same SQLite file. After each restart every acknowledged id must be there, every batch that
// was in flight at the kill must be all-or-nothing, and resending it must be idempotent.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, makeKeys, startCollector, type Collector } from './collector-process';

const ROUNDS = Number(process.env.AUTHWATCH_KILL_ROUNDS ?? 8);
const WRITERS = 3;

interface Batch {
  round: number;
  ids: string[];
  body: string;
}

const dir = mkdtempSync(join(tmpdir(), 'authwatch-kill9-'));
const dbFile = join(dir, 'authwatch.db');
const keys = makeKeys();
let collector: Collector | undefined;

afterAll(async () => {
  await collector?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

function makeBatch(round: number, writer: number, n: number): Batch {
  const size = 1 + Math.floor(Math.random() * 200);
  const ids: string[] = [];
  const events = [];
  for (let k = 0; k < size; k++) {
    const id = `k9-r${round}-w${writer}-b${n}-${k}`;
    ids.push(id);
    const failure = Math.random() < 0.3;
    events.push({
      id,
      type: 'login',
      outcome: failure ? 'failure' : 'success',
      ...(failure ? { reason: 'invalid_password' } : { session_id: `sess-${id}` }),
      user: `kill-r${round}-u${k % 50}`,
      ip: `10.${round}.${writer}.${k % 250}`,
      service: 'kill9',
    });
  }
  return { round, ids, body: JSON.stringify(events) };
}

async function post(url: string, batch: Batch): Promise<'acked' | 'failed'> {
  try {
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(keys.ingest) },
      body: batch.body,
    });
    const body = (await res.json()) as { accepted?: number; duplicates?: number };
    if (res.status !== 202) throw new Error(`POST /v1/events → ${res.status} ${JSON.stringify(body)}`);
    if ((body.accepted ?? 0) + (body.duplicates ?? 0) !== batch.ids.length) {
      throw new Error(`202 for ${batch.ids.length} events but body says ${JSON.stringify(body)}`);
    }
    return 'acked';
  } catch (err) {
    // A connection dropped by the kill is expected; anything the server said is not.
    if (err instanceof Error && /→|202 for/.test(err.message)) throw err;
    return 'failed';
  }
}

/** Ids present in the events table, read from the file the collector writes (WAL: safe while it runs). */
function presentIds(ids: string[]): Set<string> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const found = new Set<string>();
    const stmt = db.prepare('SELECT id FROM events WHERE id = ?').pluck();
    for (const id of ids) if (stmt.get(id) !== undefined) found.add(id);
    return found;
  } finally {
    db.close();
  }
}

/** Every event of one user pattern through the API, following next_cursor. */
async function idsViaApi(url: string, user: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams({ user, limit: '1000', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${url}/v1/events?${q}`, { headers: bearer(keys.read) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: { id: string }[]; next_cursor: string | null };
    for (const e of body.events) ids.add(e.id);
    cursor = body.next_cursor ?? null;
    if (!cursor || body.events.length === 0) break;
  }
  return ids;
}

test(`no acknowledged event is lost across ${ROUNDS} kill -9s`, async () => {
  const acked: Batch[] = [];
  let inFlightTotal = 0;
  let inFlightStored = 0;
  let inFlightAbsent = 0;

  for (let round = 0; round < ROUNDS; round++) {
    collector = await startCollector({ dbFile, keys });
    const c = collector;

    // Before new load: everything acknowledged so far is still there (API for the last round,
    // the file for all of them).
    if (round > 0) {
      const allAcked = acked.flatMap((b) => b.ids);
      const present = presentIds(allAcked);
      const missing = allAcked.filter((id) => !present.has(id));
      expect({ round, missing: missing.slice(0, 10), missingCount: missing.length }).toEqual({ round, missing: [], missingCount: 0 });
      const lastRound = acked.filter((b) => b.round === round - 1).flatMap((b) => b.ids);
      const viaApi = new Set<string>();
      for (let u = 0; u < 50; u++) for (const id of await idsViaApi(c.url, `kill-r${round - 1}-u${u}`)) viaApi.add(id);
      const apiMissing = lastRound.filter((id) => !viaApi.has(id));
      expect({ round, apiMissing: apiMissing.slice(0, 10), count: apiMissing.length }).toEqual({ round, apiMissing: [], count: 0 });
    }

    // Writers post until the kill; the kill comes at a random moment after the first ack.
    let killed = false;
    const inFlight: Batch[] = [];
    let firstAck: () => void = () => {};
    const gotFirstAck = new Promise<void>((r) => (firstAck = r));
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let n = 0; !killed; n++) {
        const batch = makeBatch(round, w, n);
        const r = await post(c.url, batch);
        if (r === 'acked') {
          acked.push(batch);
          firstAck();
        } else {
          inFlight.push(batch);
          return;
        }
      }
    });
    let noAck: NodeJS.Timeout | undefined;
    await Promise.race([
      gotFirstAck,
      new Promise((_, reject) => (noAck = setTimeout(() => reject(new Error(`no batch acknowledged within 30 s:\n${c.output()}`)), 30_000))),
    ]).finally(() => clearTimeout(noAck));
    const delay = 50 + Math.floor(Math.random() * 1500);
    await new Promise((r) => setTimeout(r, delay));
    killed = true;
    await c.kill9();
    await Promise.all(writers);

    // In-flight batches: all or nothing, then a resend stores them exactly once.
    collector = await startCollector({ dbFile, keys });
    for (const b of inFlight) {
      const present = presentIds(b.ids).size;
      expect({ batch: b.ids[0], present: present === 0 || present === b.ids.length }).toEqual({ batch: b.ids[0], present: true });
      inFlightTotal++;
      if (present) inFlightStored++;
      else inFlightAbsent++;
      expect(await post(collector.url, b)).toBe('acked');
      acked.push(b);
    }
    const roundEvents = acked.filter((b) => b.round === round).reduce((n, b) => n + b.ids.length, 0);
    console.log(`kill -9 #${round + 1} after ${delay} ms: ${roundEvents} events acknowledged this round, ${inFlight.length} batches in flight`);
    await collector.stop();
    collector = undefined;
  }

  // Final check on the stopped file: every acknowledged id exactly once.
  const all = acked.flatMap((b) => b.ids);
  const db = new Database(dbFile, { readonly: true });
  const stored = db.prepare("SELECT count(*) AS n, count(DISTINCT id) AS d FROM events WHERE id LIKE 'k9-%'").get() as { n: number; d: number };
  db.close();
  const present = presentIds(all);
  console.log(
    `kill -9 durability: ${ROUNDS} kills, ${all.length} acknowledged events, ${present.size} present, ` +
      `${stored.n} stored rows (${stored.d} distinct); in-flight batches at kill: ${inFlightTotal} ` +
      `(${inFlightStored} fully stored, ${inFlightAbsent} absent, 0 partial), all resent idempotently`,
  );
  expect(present.size).toBe(all.length);
  expect(stored.d).toBe(stored.n);
  expect(stored.n).toBe(all.length);
});
