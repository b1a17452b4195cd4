// GET /v1/timeseries: event counts per aligned bucket, optionally grouped, zero-filled.
import { Router } from 'express';
import { GROUP_FIELDS, type GroupField } from '../store/store';
import type { ApiContext } from '../http/context';
import { badRequest } from '../http/errors';
import { choice, EVENT_FILTER_PARAMS, eventFilter, hiddenDetail, int, onlyParams } from './params';
import { hidesDetails } from './redact';

export const MAX_BUCKETS = 11_000;
const DAY = 86_400_000;
export const TIMESERIES_PARAMS = [...EVENT_FILTER_PARAMS, 'interval_ms', 'group_by'] as const;

export function timeseriesRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/timeseries', ctx.auth('read'), onlyParams(...TIMESERIES_PARAMS), async (req, res) => {
    const filter = eventFilter(req, ctx.config.hideDetails);
    const to = filter.to ?? Date.now();
    const from = filter.from ?? to - DAY;
    const defInterval = Math.max(1000, Math.ceil((to - from) / 100 / 1000) * 1000);
    const interval = int(req.query, 'interval_ms', defInterval, 1, 366 * DAY);
    const group: GroupField | null = choice(req.query, 'group_by', GROUP_FIELDS) ?? null;
    if (group === 'country' && hidesDetails(req, ctx.config.hideDetails)) throw hiddenDetail('group_by=country');
    const first = Math.floor(from / interval) * interval;
    const buckets = to > from ? Math.floor((to - 1 - first) / interval) + 1 : 0;
    if (buckets > MAX_BUCKETS) throw badRequest(`${buckets} buckets requested, the limit is ${MAX_BUCKETS}: use a larger interval_ms or a shorter range`);
    const rows = await ctx.store.timeseries({ ...filter, from, to }, interval, group);
    const byKey = new Map<string, Map<number, number>>();
    for (const row of rows) {
      const key = group ? (row.key ?? 'unknown') : 'total';
      let m = byKey.get(key);
      if (!m) byKey.set(key, (m = new Map()));
      m.set(row.bucket, (m.get(row.bucket) ?? 0) + row.count);
    }
    if (!group && !byKey.size) byKey.set('total', new Map());
    const series = [...byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, m]) => {
        const points: [number, number][] = new Array(buckets);
        for (let i = 0; i < buckets; i++) {
          const b = first + i * interval;
          points[i] = [b, m.get(b) ?? 0];
        }
        return { key, points };
      });
    res.json({ interval_ms: interval, series });
  });
  return r;
}
