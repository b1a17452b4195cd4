#!/usr/bin/env node
// CLI: authwatch-collector [--host H] [--port P] [--store URL] [--no-demo]
//      [--authlog PATH|- [--follow [--from-start] | --once] [--authlog-tz TZ] [--authlog-to URL]] (sources/authlog-cli.ts)
// Reads configuration (config.ts), listens, prints how to use it, drains on SIGTERM/SIGINT.
import { createCollector } from './app';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { parseAuthLogArgs, shipAuthLog, startAuthLog, summaryLine, type AuthLogCliOptions } from './sources/authlog-cli';

async function main(): Promise<void> {
  const log = createLogger();
  // --no-demo belongs to scripts/start.mjs (demo traffic); accepted here so it can pass through.
  const argv = process.argv.slice(2);
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

main().catch((err: unknown) => {
  process.stderr.write(`authwatch: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
