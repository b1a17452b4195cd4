// The connection flags every command takes, and the connection they make.
import { Option, type Command } from 'commander';
import { connectionFrom, type Connection, type GlobalOptions } from './api';

/** --url/--key/--timeout, accepted before the command and after it. */
export function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'collector URL (AUTHWATCH_URL; default http://127.0.0.1:4600)')
    .option('--key <key>', 'API key (AUTHWATCH_KEY; AUTHWATCH_INGEST_KEY for import/check)')
    .addOption(new Option('--timeout <seconds>', 'give up on a request after this long (default 30)').hideHelp());
}

/** The connection for a subcommand: its own flags win over the program's, which win over the environment. */
export function connectionOf(cmd: Command): Connection {
  const merged: GlobalOptions = {};
  // The innermost command first: `authwatch --key A policy set --key B …` uses B.
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.opts<GlobalOptions>();
    merged.url ??= o.url;
    merged.key ??= o.key;
    merged.timeout ??= o.timeout;
  }
  return connectionFrom(merged);
}
