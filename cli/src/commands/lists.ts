// authwatch events | sessions | lockouts: the API's lists as tables (local times), --json (the
// API's objects, epoch ms) or --csv (RFC 3339 UTC times, as the collector's export). Only the
// query parameters docs/collector.md documents for each endpoint are sent.
import type { EventsPage, Lockout, Session, StoredEvent } from '@authwatch/wire';
import { Command, Option } from 'commander';
import { CliError, EXIT, call, httpError, send, type Query } from '../api';
import { collect, csv, localTime, localZone, parseTimeOption, positiveInt, table } from '../format';
import { connectionOf } from '../connection';

/** The API's objects, looked up by column name in tables. */
export type StoredEventView = StoredEvent & Record<string, unknown>;

type EventPage = Omit<EventsPage, 'events'> & { events: StoredEventView[] };

interface ListOptions {
  json?: boolean;
  csv?: boolean;
  since?: string;
  from?: string;
  to?: string;
  limit: string;
  user?: string[];
}

function outputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--json', "print the API's JSON (times stay epoch milliseconds)").conflicts('csv'))
    .option('--csv', 'print CSV (times as RFC 3339 UTC)');
}

/** from/to for the API: --since wins over --from; both give epoch ms. */
function range(o: ListOptions): { from?: number; to?: number } {
  if (o.since !== undefined && o.from !== undefined) throw new CliError('give --since or --from, not both', EXIT.USAGE);
  const from = o.since !== undefined ? parseTimeOption(o.since, '--since') : o.from !== undefined ? parseTimeOption(o.from, '--from') : undefined;
  const to = o.to !== undefined ? parseTimeOption(o.to, '--to') : undefined;
  if (from !== undefined && to !== undefined && from > to) throw new CliError('--from/--since is after --to', EXIT.USAGE);
  return { from, to };
}

function timeOptions(cmd: Command): Command {
  return cmd
    .option('--since <when>', 'from this long ago (30m, 1h, 7d) or this time')
    .option('--from <when>', 'from this time (2026-06-18, 2026-06-18T14:00 local, RFC 3339, epoch ms, or 1h)')
    .option('--to <when>', 'until this time (exclusive)');
}

const write = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');

interface EventOptions extends ListOptions {
  type?: string[];
  outcome?: string[];
  reason?: string[];
  ip?: string[];
  service?: string[];
  country?: string[];
  search?: string;
  order: 'asc' | 'desc';
}

/** The /v1/events filter of these options (also used by tail). */
export function eventFilter(o: Partial<EventOptions>): Query {
  return { user: o.user, type: o.type, outcome: o.outcome, reason: o.reason, ip: o.ip, service: o.service, country: o.country, q: o.search };
}

/** The filter flags shared by events and tail. */
export function eventFilterOptions(cmd: Command): Command {
  return cmd
    .option('-u, --user <name>', 'only this user (repeat or comma-separate for several)', collect)
    .option('-t, --type <type>', 'login, logout, session_end, mfa, password_reset, password_change, access, lockout, unlock, detection, admin', collect)
    .addOption(new Option('-o, --outcome <outcome>', 'success or failure').argParser(collect))
    .option('-r, --reason <reason>', 'reason code (invalid_password, too_many_failures, brute_force, …)', collect)
    .option('--ip <address>', 'only this client address', collect)
    .option('--service <name>', 'only this service', collect)
    .option('--country <code>', 'ISO country code, or private / reserved', collect)
    .option('-q, --search <text>', 'case-insensitive text in user, email, ip, reason, user agent, service');
}

/** One line per event for tables and tail. */
export function eventRow(e: StoredEventView): string[] {
  return [localTime(e.time), e.type, e.outcome ?? '', e.reason ?? '', e.user, e.ip ?? '', e.country ?? '', e.service ?? e.actor ?? ''];
}
export const EVENT_HEAD = ['time', 'type', 'outcome', 'reason', 'user', 'ip', 'country', 'service'];

export function eventsCommand(): Command {
  const cmd = new Command('events').description('list events, newest first (filters as GET /v1/events)').argument('[user]', 'shorthand for --user');
  eventFilterOptions(cmd);
  timeOptions(cmd);
  cmd
    .option('-n, --limit <n>', 'at most this many (pages are followed past 1,000)', '50')
    .addOption(new Option('--order <order>', 'desc: newest first; asc: oldest first').choices(['desc', 'asc']).default('desc'));
  outputOptions(cmd);
  cmd.addHelpText('after', '\nExamples:\n  authwatch events --since 1h --outcome failure\n  authwatch events alice --since 1d --csv > alice.csv\n  authwatch events --type detection --json | jq .');
  cmd.action(async (user: string | undefined, o: EventOptions, self: Command) => {
    const conn = connectionOf(self);
    if (user) o.user = [...(o.user ?? []), user];
    const limit = positiveInt(o.limit, '--limit');
    const { from, to } = range(o);
    const filter: Query = { ...eventFilter(o), from, to };
    if (o.csv) {
      // The collector's own export: streamed, RFC 3339 times, formula-safe cells.
      const res = await send(conn, 'GET', '/v1/events.csv', { query: { ...filter, limit, order: o.order } });
      if (!res.ok) throw await httpError(res, 'GET /v1/events.csv');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      }
      return;
    }
    const events: StoredEventView[] = [];
    let total = 0;
    let cursor: string | null = null;
    do {
      const page: EventPage = await call<EventPage>(conn, 'GET', '/v1/events', { query: { ...filter, order: o.order, limit: Math.min(1000, limit - events.length), cursor } });
      events.push(...page.events);
      total = page.total;
      cursor = page.next_cursor;
    } while (cursor && events.length < limit);
    if (o.json) return write(JSON.stringify(events, null, 2));
    if (!events.length) return write('no events match');
    write(table([`time (${localZone()})`, ...EVENT_HEAD.slice(1)], events.map(eventRow)));
    if (total > events.length) process.stderr.write(`${events.length} of ${total} events shown (--limit ${total} for all)\n`);
  });
  return cmd;
}

type SessionView = Session & Record<string, unknown>;

const SESSION_COLUMNS = ['id', 'user', 'user_id', 'ip', 'country', 'city', 'isp', 'asn', 'browser', 'os', 'device', 'device_type', 'service', 'started_at', 'last_seen_at', 'ended_at', 'end_reason', 'state'];

export async function listSessions(conn: ReturnType<typeof connectionOf>, query: Query): Promise<SessionView[]> {
  return (await call<{ sessions: SessionView[] }>(conn, 'GET', '/v1/sessions', { query })).sessions;
}

export function sessionsCommand(): Command {
  const cmd = new Command('sessions')
    .description('list sessions (active by default; GET /v1/sessions)')
    .argument('[user]', 'shorthand for --user')
    .addOption(new Option('-s, --state <state>', 'active, ended or all').choices(['active', 'ended', 'all']).default('active'))
    .option('-u, --user <name>', 'only this user (repeat or comma-separate)', collect);
  timeOptions(cmd);
  cmd.option('-n, --limit <n>', 'at most this many (up to 50,000)', '100');
  outputOptions(cmd);
  cmd.addHelpText('after', '\nThe ID column is the start of the session id; authwatch terminate accepts it.\n\nExamples:\n  authwatch sessions\n  authwatch sessions bob --state all --since 1d');
  cmd.action(async (user: string | undefined, o: ListOptions & { state: string }, self: Command) => {
    const conn = connectionOf(self);
    if (user) o.user = [...(o.user ?? []), user];
    const { from, to } = range(o);
    const sessions = await listSessions(conn, { state: o.state, user: o.user, from, to, limit: positiveInt(o.limit, '--limit', 50_000) });
    if (o.json) return write(JSON.stringify(sessions, null, 2));
    if (o.csv) return write(csv(SESSION_COLUMNS, sessions, new Set(['started_at', 'last_seen_at', 'ended_at'])));
    if (!sessions.length) return write(`no ${o.state === 'all' ? '' : o.state + ' '}sessions`);
    write(
      table(
        ['id', 'user', 'ip', 'country', 'client', `started (${localZone()})`, 'last seen', 'state', 'ended', 'end reason'],
        sessions.map((s) => [
          s.id.slice(0, 12),
          s.user,
          s.ip,
          s.country,
          [s.browser, s.os].filter(Boolean).join(' / ') || s.device,
          localTime(s.started_at),
          localTime(s.last_seen_at),
          s.state,
          localTime(s.ended_at),
          s.end_reason,
        ]),
      ),
    );
  });
  return cmd;
}

export type LockView = Lockout & Record<string, unknown>;

const LOCK_COLUMNS = ['id', 'user', 'scope', 'ip', 'failures', 'locked_at', 'locked_until', 'reason', 'state', 'unlocked_at', 'unlocked_by'];

export function lockoutsCommand(): Command {
  const cmd = new Command('lockouts')
    .description('list locks (in force by default; GET /v1/lockouts)')
    .argument('[user]', 'shorthand for --user')
    .addOption(new Option('-s, --state <state>', 'locked (in force) or all').choices(['locked', 'all']).default('locked'))
    .option('-u, --user <name>', 'only this user (repeat or comma-separate)', collect)
    .option('--since <when>', 'only locks set since then (30m, 1h, 7d, or a time)')
    .option('-n, --limit <n>', 'at most this many (up to 10,000)', '1000');
  outputOptions(cmd);
  cmd.addHelpText('after', '\nExamples:\n  authwatch lockouts\n  authwatch lockouts --state all --since 1d --csv');
  cmd.action(async (user: string | undefined, o: ListOptions & { state: string }, self: Command) => {
    const conn = connectionOf(self);
    if (user) o.user = [...(o.user ?? []), user];
    // /v1/lockouts has no time filter: --since is applied here, on locked_at.
    const since = o.since !== undefined ? parseTimeOption(o.since, '--since') : undefined;
    const all = (await call<{ lockouts: LockView[] }>(conn, 'GET', '/v1/lockouts', { query: { state: o.state, user: o.user, limit: positiveInt(o.limit, '--limit', 10_000) } })).lockouts;
    const locks = since === undefined ? all : all.filter((l) => l.locked_at >= since);
    if (o.json) return write(JSON.stringify(locks, null, 2));
    if (o.csv) return write(csv(LOCK_COLUMNS, locks, new Set(['locked_at', 'locked_until', 'unlocked_at'])));
    if (!locks.length) return write(o.state === 'locked' ? 'no locks in force' : 'no locks');
    write(
      table(
        [`locked at (${localZone()})`, 'until', 'user', 'scope', 'ip', 'failures', 'state', 'unlocked by'],
        locks.map((l) => [
          localTime(l.locked_at),
          l.locked_until === null ? 'until unlocked' : localTime(l.locked_until),
          l.user,
          l.scope,
          l.ip,
          l.failures,
          l.state,
          l.unlocked_by ? `${l.unlocked_by} at ${localTime(l.unlocked_at)}` : '',
        ]),
      ),
    );
  });
  return cmd;
}
