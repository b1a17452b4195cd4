// Pipeline runner on a real SQLite store: group commit, per-batch isolation, failing pluggable
// processors, sinks only see committed events.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createLogger } from '../src/log';
import type { Processor, Sink } from '../src/pipeline/contracts';
import { Pipeline } from '../src/pipeline/runner';
import { derivedEvent } from '../src/schema/derived-event';
import { blankEvent, type StoredEvent } from '../src/schema/stored-event';
import { SqliteStore } from '../src/store/sqlite';
import { tempDir } from './helpers/server';
import type { Writable } from 'node:stream';

const quiet = createLogger({ write: () => true } as unknown as Writable, 'silent');
const ev = (id: string, user = 'u'): StoredEvent => blankEvent({ id, time: Date.now(), type: 'login', user, outcome: 'success' });

let dir: string;
let store: SqliteStore;
beforeEach(() => {
  dir = tempDir();
  store = new SqliteStore(join(dir, 'p.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function recordingSink(): Sink & { seen: string[] } {
  const seen: string[] = [];
  return { name: 'rec', seen, write: (events) => void seen.push(...events.map((e) => e.id)), close: async () => {} };
}

test('concurrent batches: one failing in a core processor rolls back alone', async () => {
  const poison: Processor = {
    name: 'poison',
    async process(events) {
      if (events.some((e) => e.user === 'poison')) throw new Error('poisoned batch');
    },
  };
  const sink = recordingSink();
  const p = new Pipeline({ store, enrichers: [], processors: [poison], sinks: [sink], log: quiet });
  const results = await Promise.allSettled([p.ingest([ev('a1'), ev('a2')]), p.ingest([ev('b1'), ev('b2', 'poison')]), p.ingest([ev('c1')])]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((results[0] as PromiseFulfilledResult<unknown>).value).toEqual({ accepted: 2, duplicates: 0 });
  await p.close();
  const stored = (await store.queryEvents({}, { limit: 10, cursor: null, order: 'asc' })).events.map((e) => e.id).sort();
  expect(stored).toEqual(['a1', 'a2', 'c1']);
  expect(sink.seen.sort()).toEqual(['a1', 'a2', 'c1']);
});

test('batches that arrive during a commit are processed as one batch, in arrival order, each told its own counts', async () => {
  const calls: string[][] = [];
  const spy: Processor = { name: 'spy', async process(events) { calls.push(events.map((e) => e.id)); } };
  const p = new Pipeline({ store, enrichers: [], processors: [spy], sinks: [], log: quiet });
  await p.ingest([ev('x1')]);
  // Three batches queued in one turn: one group.
  const [a, b, c] = await Promise.all([p.ingest([ev('g1'), ev('g2')]), p.ingest([ev('g2'), ev('g3')]), p.ingest([ev('x1'), ev('g4')])]);
  // g2 is sent twice in one group and x1 was stored before: each is a duplicate exactly once.
  expect([a, b, c]).toEqual([{ accepted: 2, duplicates: 0 }, { accepted: 1, duplicates: 1 }, { accepted: 1, duplicates: 1 }]);
  expect(calls).toEqual([['x1'], ['g1', 'g2', 'g3', 'g4']]);
  await p.close();
});

test('a throwing pluggable processor loses its own output, not the batch', async () => {
  const flaky: Processor = {
    name: 'flaky-detection',
    async process(events, ctx) {
      ctx.emit(derivedEvent(ctx.now, { time: ctx.now, type: 'detection', user: events[0].user, reason: 'half_done' }));
      await ctx.tx.putState('flaky', 'k', 1, null);
      throw new Error('detector bug');
    },
  };
  const good: Processor = {
    name: 'good-detection',
    async process(events, ctx) {
      ctx.emit(derivedEvent(ctx.now, { id: 'det-1', time: ctx.now, type: 'detection', user: events[0].user, reason: 'brute_force' }));
    },
  };
  const sink = recordingSink();
  const p = new Pipeline({ store, enrichers: [], processors: [], isolatedProcessors: [flaky, good], sinks: [sink], log: quiet });
  expect(await p.ingest([ev('x1')])).toEqual({ accepted: 1, duplicates: 0 });
  await p.close();
  const stored = (await store.queryEvents({}, { limit: 10, cursor: null, order: 'asc' })).events;
  expect(stored.map((e) => e.reason ?? e.id).sort()).toEqual(['brute_force', 'x1']);
  expect(await store.write((tx) => tx.getState('flaky', 'k'))).toBeUndefined();
  expect(sink.seen).toHaveLength(2);
});

test('duplicates are not re-processed and not re-sent to sinks', async () => {
  let processed = 0;
  const counter: Processor = { name: 'count', process: async (events) => void (processed += events.length) };
  const sink = recordingSink();
  const p = new Pipeline({ store, enrichers: [], processors: [counter], sinks: [sink], log: quiet });
  await p.ingest([ev('d1'), ev('d2')]);
  expect(await p.ingest([ev('d1'), ev('d3')])).toEqual({ accepted: 1, duplicates: 1 });
  await p.close();
  expect(processed).toBe(3);
  expect(sink.seen.sort()).toEqual(['d1', 'd2', 'd3']);
});

test('enrichers run before storage; a throwing enricher does not lose the event', async () => {
  const p = new Pipeline({
    store,
    enrichers: [
      { name: 'boom', enrich: () => { throw new Error('x'); } },
      { name: 'geo', enrich: (e) => void (e.country = 'NL') },
    ],
    processors: [],
    sinks: [],
    log: quiet,
  });
  await p.ingest([ev('g1')]);
  await p.close();
  expect((await store.queryEvents({}, { limit: 1, cursor: null, order: 'asc' })).events[0].country).toBe('NL');
});
