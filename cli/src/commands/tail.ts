// authwatch tail: new events as they arrive, one line each (or NDJSON with --json), until Ctrl-C.
// The collector has no push API: GET /v1/events is polled oldest-first from a little before the
// newest event seen (LATE_MS), and ids already printed are skipped, so an event whose time is up to
// LATE_MS behind the newest one still shows up.
import { Command } from 'commander';
import { CliError, EXIT, call } from '../api';
import { connectionOf } from '../connection';
import { parseDuration, parseTimeOption, positiveInt, printable } from '../format';
import { EVENT_HEAD, eventFilter, eventFilterOptions, eventRow, type StoredEventView } from './lists';

const LATE_MS = 30_000;
const WIDTHS = [19, 11, 7, 18, 16, 15, 8, 0];

interface TailOptions {
  since?: string;
  interval: string;
  count?: string;
  json?: boolean;
}

export function tailCommand(): Command {
  const cmd = new Command('tail').description('print new events as they arrive (Ctrl-C stops; read key)');
  eventFilterOptions(cmd);
  cmd
    .option('--since <when>', 'start with the events since then (default: only new ones)')
    .option('--interval <duration>', 'how often to ask the collector', '1s')
    .option('-c, --count <n>', 'stop after this many events')
    .option('--json', 'one JSON event per line (epoch ms times)')
    .addHelpText('after', '\nExamples:\n  authwatch tail --outcome failure\n  authwatch tail --type detection --json | jq -r .reason');
  cmd.action(async (o: TailOptions & Parameters<typeof eventFilter>[0], self: Command) => {
    const conn = connectionOf(self);
    const intervalMs = parseDuration(o.interval);
    if (intervalMs === null || intervalMs < 100) throw new CliError('--interval must be a duration of at least 100ms (e.g. 1s, 500ms)', EXIT.USAGE);
    const max = o.count !== undefined ? positiveInt(o.count, '--count') : Infinity;
    const filter = eventFilter(o);
    let watermark = o.since !== undefined ? parseTimeOption(o.since, '--since') : Date.now();
    // Printed ids with their times, forgotten once they fall behind the window.
    const seen = new Map<string, number>();
    let printed = 0;
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (!o.json && process.stdout.isTTY) process.stdout.write(EVENT_HEAD.map((h, i) => h.toUpperCase().padEnd(WIDTHS[i])).join(' ').trimEnd() + '\n');
    while (!stopped && printed < max) {
      let cursor: string | null = null;
      do {
        const page: { events: StoredEventView[]; next_cursor: string | null } = await call(conn, 'GET', '/v1/events', {
          query: { ...filter, from: Math.max(0, watermark - LATE_MS), order: 'asc', limit: 1000, cursor },
        });
        for (const e of page.events) {
          if (seen.has(e.id) || printed >= max) continue;
          seen.set(e.id, e.time);
          watermark = Math.max(watermark, e.time);
          printed++;
          process.stdout.write(o.json ? JSON.stringify(e) + '\n' : eventRow(e).map((c, i) => printable(c).padEnd(WIDTHS[i])).join(' ').trimEnd() + '\n');
        }
        cursor = page.next_cursor;
      } while (cursor && !stopped && printed < max);
      for (const [id, t] of seen) if (t < watermark - 2 * LATE_MS) seen.delete(id);
      if (!stopped && printed < max) await new Promise((r) => setTimeout(r, intervalMs));
    }
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  });
  return cmd;
}
