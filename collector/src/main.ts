#!/usr/bin/env node
// CLI: authwatch-collector [--host H] [--port P] [--store URL] [--no-demo] [--print-config]
//      [--authlog PATH|- | --authlog-journal PATH|-] [--authlog-mode M] [other auth.log flags]
//      (the auth.log flags: AUTHLOG_OPTIONS in sources/authlog-cli.ts, which also parses them)
// The same command is `authwatch serve` (cli/). node:util parseArgs checks the command line
// (strict: an unknown flag or a stray argument is a usage error, exit 2; --help prints the usage,
// exit 0); config.ts and sources/authlog-cli.ts then read the values from the same argv as before.
// Reads configuration (config.ts), listens, prints how to use it, drains on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { createCollector } from './app';
import { ConfigError, loadConfig, redactedConfig } from './config';
import { createLogger } from './log';
// The auth.log flags (AUTHLOG_OPTIONS) and their parsing belong to sources/authlog-cli.ts.
import { AUTHLOG_OPTIONS, parseAuthLogArgs, shipAuthLog, startAuthLog, summaryLine, type AuthLogCliOptions } from './sources/authlog-cli';

/** Exit code for a command line that cannot be understood (the CLI uses the same). */
export const EXIT_USAGE = 2;

/** One flag: "--name" (a switch) or "--name <value>", and its help line. */
export interface FlagHelp {
  flags: string;
  description: string;
}

const SERVER_FLAGS: FlagHelp[] = [
  { flags: '--host <host>', description: 'listen address (AUTHWATCH_HOST; default 127.0.0.1; anything else needs API keys)' },
  { flags: '--port <port>', description: 'listen port, 0 = any free port (AUTHWATCH_PORT; default 4600)' },
  { flags: '--store <url>', description: 'sqlite:PATH or postgres://… (AUTHWATCH_STORE; default sqlite:./data/authwatch.db)' },
  { flags: '--no-demo', description: 'accepted and ignored here: it belongs to npm start (scripts/start.mjs)' },
  { flags: '--print-config', description: 'print the effective configuration as JSON (secrets redacted) and exit' },
];

const HELP_FLAG: FlagHelp = { flags: '-h, --help', description: 'print this help and exit' };

/** The usage text of `name` (authwatch-collector, or "authwatch serve"). */
export function serveUsage(name = 'authwatch-collector'): string {
  const flags = [...SERVER_FLAGS, ...AUTHLOG_OPTIONS, HELP_FLAG];
  const width = Math.max(...flags.map((f) => f.flags.length)) + 2;
  return [
    `Usage: ${name} [options]`,
    '',
    'Run the Authwatch collector: the HTTP API (events in, queries, decisions, actions), the store,',
    'detections and metrics.',
    '',
    'Options:',
    ...flags.map((f) => `  ${f.flags.padEnd(width)}${f.description}`),
    '',
    'Environment: AUTHWATCH_INGEST_KEYS, AUTHWATCH_READ_KEYS, AUTHWATCH_ADMIN_KEYS (API keys),',
    'AUTHWATCH_SESSION_KEY, AUTHWATCH_HIDE_DETAILS, AUTHWATCH_GEO_*, AUTHWATCH_DETECT_*, OTEL_*:',
    'see docs/collector.md and docs/enrichment.md. Flags win over the environment.',
    '',
    'Examples:',
    `  ${name} --port 4600 --store sqlite:/var/lib/authwatch/authwatch.db`,
    `  ${name} --authlog /var/log/auth.log --follow`,
    `  ${name} --authlog /var/log/auth.log --once --store sqlite:./imported.db`,
    '',
  ].join('\n');
}

/** "ok" to run, "help" when --help was asked for, or the usage error. */
export function checkServeArgs(argv: readonly string[]): { ok: true; help: boolean } | { ok: false; error: string } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const f of [...SERVER_FLAGS, ...AUTHLOG_OPTIONS]) {
    const m = /^--([a-z0-9-]+)(\s+<[^>]+>)?$/i.exec(f.flags.trim());
    if (m) options[m[1]] = { type: m[2] ? 'string' : 'boolean' };
  }
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return { ok: true, help: values.help === true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/**
 * The collector's command line: `authwatch-collector ARGS` or `authwatch serve ARGS`. Prints the
 * usage for --help (exit 0) and for a usage error (exit 2); otherwise starts the collector.
 */
export async function serveMain(argv: readonly string[], name = 'authwatch-collector'): Promise<void> {
  const checked = checkServeArgs(argv);
  if (!checked.ok) {
    process.stderr.write(`${name}: ${checked.error}\n\n${serveUsage(name)}`);
    process.exit(EXIT_USAGE);
  }
  if (checked.help) {
    process.stdout.write(serveUsage(name));
    process.exit(0);
  }
  await runCollector([...argv]);
}

/** Starts the collector with these arguments (already validated by serveCommand). */
export async function runCollector(argv: string[]): Promise<void> {
  const log = createLogger();
  let config;
  let authlog: AuthLogCliOptions | null;
  try {
    config = loadConfig(process.env, argv);
    authlog = parseAuthLogArgs(argv, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`authwatch: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  if (argv.includes('--print-config')) {
    process.stdout.write(JSON.stringify(redactedConfig(config), null, 2) + '\n');
    process.exit(0);
  }
  if (authlog?.to) {
    // Shipper: posts to a remote collector; no local collector at all.
    await shipAuthLog(authlog, log);
    return;
  }
  if (config.keys.empty) {
    log.warn('NO API KEYS CONFIGURED: every request is treated as admin. Serving on loopback only. Set AUTHWATCH_INGEST_KEYS, AUTHWATCH_READ_KEYS and AUTHWATCH_ADMIN_KEYS before exposing the collector.');
  }
  const collector = await createCollector(config, log);
  if (authlog?.once) {
    // Import and exit: read the whole file (or stdin) into the store, print totals, no listening.
    const t0 = Date.now();
    const stats = await startAuthLog(authlog, collector, log).done;
    process.stdout.write(summaryLine(stats, Date.now() - t0) + '\n');
    await collector.close();
    process.exit(0);
  }
  const { url } = await collector.listen();
  const key = config.keys.empty ? '' : ' -H "Authorization: Bearer $AUTHWATCH_KEY"';
  process.stdout.write(
    [
      `authwatch collector listening on ${url}`,
      `store: ${collector.store.description}`,
      'try:',
      `  curl -s -X POST ${url}/v1/events -H 'Content-Type: application/json'${key} -d '{"type":"login","outcome":"failure","reason":"invalid_password","user":"alice","ip":"203.0.113.7"}'`,
      `  curl -s '${url}/v1/events?user=alice'${key}`,
      `  AUTHWATCH_URL=${url}${config.keys.empty ? '' : ' AUTHWATCH_KEY=<read or admin key>'} npx authwatch status    # the CLI: docs/cli.md`,
      '',
    ].join('\n'),
  );
  // The auth.log source starts once the collector serves (reads once, or follows).
  const t0 = Date.now();
  const tail = authlog ? startAuthLog(authlog, collector, log) : null;
  if (tail && !authlog?.follow) void tail.done.then((stats) => process.stdout.write(summaryLine(stats, Date.now() - t0) + '\n')).catch(() => undefined);
  log.info('started', { url, store: collector.store.description, keys: config.keys.keys.length, hide_details: config.hideDetails });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    Promise.resolve(tail?.stop().catch(() => undefined))
      .then(() => collector.close())
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error('shutdown failed', { error: String(err) });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  serveMain(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`authwatch: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
