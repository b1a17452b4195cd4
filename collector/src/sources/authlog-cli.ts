// The auth.log source from the command line (main.ts):
//   --authlog PATH|-   read an sshd auth.log file (plain or .gz), or stdin
//   --authlog-journal PATH|-   the same, for `journalctl -o json` output (JSON lines only)
//   --authlog-mode M   normal (default), ddos, extra or aggressive: as fail2ban's sshd filter modes
//   --follow           keep following it (rotation, truncation) while the collector serves
//   --from-start       with --follow: start at the beginning instead of the current end
//   --once             import the file (or stdin) and exit with a summary line, without listening
//   --authlog-tz TZ    zone of syslog timestamps without an offset (default: this machine's)
//   --authlog-to URL   shipper: post to a remote collector (ingest key in AUTHWATCH_AUTHLOG_KEY)
// Without --follow the file is read once while the collector serves; a summary line is printed
// when it is done.
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { ConfigError } from '../config';
import type { Collector } from '../app';
import type { Logger } from '../log';
import { pipelineSink, runAuthLogSource, type AuthLogStats, type EventSink } from './authlog';
import { remoteSink } from './authlog-shipper';
import { AuthLogInputError, sniff } from './authlog-input';
import { AUTHLOG_MODES, type AuthLogMode } from './authlog-parse';
import { offsetFunction, TimeZoneError } from './authlog-time';

/** The auth.log flags with their help lines (main.ts accepts and lists exactly these). */
export const AUTHLOG_OPTIONS: { flags: string; description: string }[] = [
  { flags: '--authlog <path>', description: 'read an sshd auth.log (plain or .gz, syslog / RFC 3339 / journald lines), or - for stdin' },
  { flags: '--authlog-journal <path>', description: 'the same for journalctl -o json output (JSON lines only), or - for stdin' },
  { flags: '--authlog-mode <mode>', description: 'normal (default), ddos, extra or aggressive: as fail2ban\'s sshd modes, which probe lines are failures' },
  { flags: '--follow', description: 'with --authlog: keep following it (rotation, truncation) while serving' },
  { flags: '--from-start', description: 'with --follow: start at the beginning instead of the current end' },
  { flags: '--once', description: 'with --authlog: import the file (or stdin), print a summary line and exit without listening' },
  { flags: '--authlog-tz <tz>', description: 'zone of syslog timestamps without an offset (AUTHWATCH_AUTHLOG_TZ; default: this machine)' },
  { flags: '--authlog-to <url>', description: 'shipper: post to a remote collector instead (ingest key in AUTHWATCH_AUTHLOG_KEY)' },
];

export interface AuthLogCliOptions {
  path: string;
  follow: boolean;
  fromStart: boolean;
  once: boolean;
  timezone: string | undefined;
  to: string | undefined;
  key: string | undefined;
  /** The input is `journalctl -o json` (--authlog-journal). */
  journal: boolean;
  mode: AuthLogMode;
}

function value(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) {
      const v = argv[i + 1];
      if (v === undefined || (v.startsWith('--') && v !== '-')) throw new ConfigError(`--${name} needs a value`);
      return v;
    }
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** The auth.log options, or null when --authlog is not given. Throws ConfigError on bad values. */
export function parseAuthLogArgs(argv: readonly string[], env: NodeJS.ProcessEnv): AuthLogCliOptions | null {
  const plain = value(argv, 'authlog');
  const journalPath = value(argv, 'authlog-journal');
  if (plain !== undefined && journalPath !== undefined) throw new ConfigError('give either --authlog or --authlog-journal, not both');
  const path = plain ?? journalPath;
  const name = journalPath !== undefined ? '--authlog-journal' : '--authlog';
  const modeArg = value(argv, 'authlog-mode');
  if (modeArg !== undefined && !(AUTHLOG_MODES as readonly string[]).includes(modeArg)) throw new ConfigError(`--authlog-mode "${modeArg}": use one of ${AUTHLOG_MODES.join(', ')}`);
  const follow = argv.includes('--follow');
  const fromStart = argv.includes('--from-start');
  const once = argv.includes('--once');
  const timezone = value(argv, 'authlog-tz') ?? (env.AUTHWATCH_AUTHLOG_TZ || undefined);
  const to = value(argv, 'authlog-to');
  if (path === undefined) {
    if (follow || fromStart || once || to || modeArg) throw new ConfigError('--follow, --from-start, --once, --authlog-mode and --authlog-to need --authlog PATH (or - for stdin)');
    return null;
  }
  if (path !== '-') {
    // Fail at start, not later in a log line: a typo would otherwise leave a collector that ingests nothing.
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      throw new ConfigError(`${name} ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    if (!statSync(path).isFile()) throw new ConfigError(`${name} ${path}: not a regular file (use - for stdin)`);
    // …and a binary or compressed file is named as such instead of being read as garbage.
    let kind: 'gzip' | 'text';
    try {
      kind = sniff(head(path), path);
    } catch (e) {
      if (e instanceof AuthLogInputError) throw new ConfigError(`${name} ${e.message}`);
      throw e;
    }
    if (kind === 'gzip' && follow) throw new ConfigError(`${name} ${path} is gzip-compressed: --follow reads a growing plain log (import it without --follow)`);
  }
  if (once && follow) throw new ConfigError('--once reads to the end and exits; it cannot be combined with --follow');
  try {
    offsetFunction(timezone);
  } catch (e) {
    if (e instanceof TimeZoneError) throw new ConfigError(e.message);
    throw e;
  }
  if (to !== undefined && !/^https?:\/\//.test(to)) throw new ConfigError(`--authlog-to "${to}" must be an http(s) URL of a collector`);
  return { path, follow, fromStart, once, timezone, to, key: env.AUTHWATCH_AUTHLOG_KEY || undefined, journal: journalPath !== undefined, mode: (modeArg ?? 'normal') as AuthLogMode };
}

/** The first 64 KiB of a file. */
function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** Lines per batch when a log is read through into this collector (not followed, not shipped). */
export const IMPORT_BATCH_LINES = 10_000;

export interface AuthLogRun {
  done: Promise<AuthLogStats>;
  /** Stops following, waits until everything read is durable. */
  stop(): Promise<AuthLogStats>;
}

/** Starts reading into this collector's pipeline, or into a remote one (opts.to). */
export function startAuthLog(opts: AuthLogCliOptions, collector: Collector | null, log: Logger): AuthLogRun {
  const abort = new AbortController();
  let sink: EventSink;
  if (opts.to) sink = remoteSink(opts.to, opts.key, log, abort.signal);
  else if (collector) sink = pipelineSink(collector.pipeline);
  else throw new Error('authlog: no collector and no --authlog-to');
  const started = Date.now();
  const onReady = opts.follow ? () => log.info('authlog: following', { path: opts.path, from: opts.fromStart ? 'start' : 'end' }) : undefined;
  // A log read through into this collector goes in batches of 10,000 lines: a tenth of the
  // commits, 200k lines in 5.1–5.8 s instead of 6.5 s. Followed logs and the shipper keep 1,000
  // (a remote collector refuses bodies over 5 MB, and crafted user names make events long).
  const maxLines = !opts.to && !opts.follow ? IMPORT_BATCH_LINES : undefined;
  const done = runAuthLogSource({ path: opts.path, follow: opts.follow, fromStart: opts.fromStart, timezone: opts.timezone, mode: opts.mode, journal: opts.journal, sink, signal: abort.signal, log, onReady, maxLines }).then((stats) => {
    log.info('authlog: finished', { path: opts.path, ...stats, seconds: (Date.now() - started) / 1000 });
    return stats;
  });
  done.catch((err: unknown) => log.error('authlog: reading failed', { path: opts.path, error: String(err) }));
  return {
    done,
    stop() {
      abort.abort();
      return done;
    },
  };
}

/** The one-line summary a one-shot import prints (bench/authlog-p5.mjs reads it). */
export function summaryLine(stats: AuthLogStats, ms: number): string {
  const rate = ms > 0 ? Math.round((stats.lines / ms) * 1000) : 0;
  return `authlog: ${stats.lines} lines, ${stats.events} events, ${stats.accepted} accepted, ${stats.duplicates} duplicates, ${stats.rejected} rejected in ${(ms / 1000).toFixed(3)} s (${rate} lines/s)`;
}

/** Shipper mode: reads (and follows) into a remote collector until done or SIGTERM/SIGINT; prints the totals. */
export async function shipAuthLog(opts: AuthLogCliOptions, log: Logger): Promise<void> {
  const t0 = Date.now();
  const run = startAuthLog(opts, null, log);
  const stop = () => void run.stop().catch(() => undefined);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const stats = await run.done;
  process.stdout.write(summaryLine(stats, Date.now() - t0) + '\n');
}
