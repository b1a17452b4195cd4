// GET /v1/events.csv: the filtered event list as CSV, streamed row by row from the store with
// backpressure (memory stays flat however many rows match).
import { Router } from 'express';
import type { Response } from 'express';
import type { ApiContext } from '../http/context';
import { csvHeader, csvRow } from './csv';
import { choice, EVENT_FILTER_PARAMS, eventFilter, int, onlyParams, ORDERS } from './params';
import { hidesDetails, redact } from './redact';

const CHUNK_BYTES = 64 * 1024;
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
    let buf = csvHeader();
    let n = 0;
    for await (const e of ctx.store.streamEvents(filter, order)) {
      if (aborted || n >= limit) break;
      buf += csvRow(hide ? redact(e) : e);
      n++;
      if (buf.length >= CHUNK_BYTES) {
        const ok = res.write(buf);
        buf = '';
        if (!ok) {
          await drained(res);
          if (res.destroyed) break;
        }
      }
    }
    if (!res.destroyed) res.end(buf);
  });
  return r;
}
