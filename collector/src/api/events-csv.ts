// GET /v1/events.csv: the filtered event list as CSV, streamed in chunks from the store with
// backpressure (memory stays flat however many rows match).
import { Router } from 'express';
import type { Response } from 'express';
import type { ApiContext } from '../http/context';
import type { CoreStore, EventFilter, StoredEvent } from '../store/store';
import { CSV_CHUNK_ROWS, csvHeader, csvLines } from '../schema/csv';
import { choice, EVENT_FILTER_PARAMS, eventFilter, int, onlyParams, ORDERS } from './params';
import { hidesDetails } from './redact';

export const EVENTS_CSV_PARAMS = [...EVENT_FILTER_PARAMS, 'limit', 'order'] as const;

/** Resolves on 'drain' or 'close', removing both listeners (no listener build-up over a long export). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The matching rows as CSV, in chunks: from the store's own formatter when it has one. */
async function* csvChunks(store: CoreStore, filter: EventFilter, order: 'asc' | 'desc', opts: { hide: boolean; limit: number }): AsyncIterable<string> {
  if (store.streamCsv) {
    yield* store.streamCsv(filter, order, opts);
    return;
  }
  let rows: StoredEvent[] = [];
  let n = 0;
  for await (const e of store.streamEvents(filter, order)) {
    if (n++ >= opts.limit) break;
    rows.push(e);
    if (rows.length === CSV_CHUNK_ROWS) {
      yield csvLines(rows, opts.hide);
      rows = [];
    }
  }
  if (rows.length) yield csvLines(rows, opts.hide);
}

export function eventCsvRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/events.csv', ctx.auth('read'), onlyParams(...EVENTS_CSV_PARAMS), async (req, res) => {
    const filter = eventFilter(req, ctx.config.hideDetails);
    const order = choice(req.query, 'order', ORDERS, 'desc');
    const limit = int(req.query, 'limit', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
    const hide = hidesDetails(req, ctx.config.hideDetails);
    res.status(200);
    res.set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="authwatch-events-${new Date().toISOString().replace(/[:.]/g, '-')}.csv"`,
      'Cache-Control': 'no-store',
    });
    let aborted = false;
    res.on('close', () => {
      aborted = !res.writableFinished;
    });
    // Nothing is sent before the store's first answer: a query it refuses is still a clean 4xx.
    let header: string | null = csvHeader();
    for await (const text of csvChunks(ctx.store, filter, order, { hide, limit })) {
      if (aborted || res.destroyed) break;
      // Strings, not Buffers: written straight to the socket, nothing left for a GC to free.
      const ok = res.write(header === null ? text : header + text);
      header = null;
      if (!ok) {
        await drained(res);
        if (res.destroyed) break;
      }
    }
    if (!res.destroyed) res.end(header ?? undefined);
  });
  return r;
}
