#!/usr/bin/env node
// authwatch: the command line for an Authwatch collector (docs/cli.md). commander parses the
// command line; every failure ends in one stderr line and an exit code (api.ts EXIT).
import { Command, CommanderError } from 'commander';
import { CliError, EXIT } from './api';
import { connectionOptions } from './connection';
import { checkCommand } from './commands/check';
import { importCommand } from './commands/import';
import { eventsCommand, lockoutsCommand, sessionsCommand } from './commands/lists';
import { policyCommand } from './commands/policy';
import { terminateCommand, unlockCommand } from './commands/actions';
import { statusCommand } from './commands/status';
import { tailCommand } from './commands/tail';

const VERSION = '0.1.0';

const EXIT_CODES = `Exit codes:
  0  done
  1  error: the collector failed (5xx) or answered unexpectedly; an import had events refused
  2  usage: unknown command or flag, bad value, or the collector refused the request (400)
  3  not found or refused: no such user/session (404), key missing or not allowed (401/403),
     already ended (409); check: the login would be refused
  4  cannot connect to the collector`;

const ENVIRONMENT = `Environment:
  AUTHWATCH_URL          collector URL (default http://127.0.0.1:4600); --url wins
  AUTHWATCH_KEY          read or admin key; --key wins
  AUTHWATCH_INGEST_KEY   ingest key for import and check (default: AUTHWATCH_KEY); --key wins
  TZ                     zone the times are shown in (default: this machine's)`;

/** Set by `serve`: the process keeps running after the command line is handled. */
let serving = false;

export function buildProgram(): Command {
  const program = new Command('authwatch')
    .description('Command line for an Authwatch collector: run it, import logs, look at events, sessions and locks, act on them.')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', `\n${ENVIRONMENT}\n\n${EXIT_CODES}\n\nTimes are shown in the local zone; --json keeps the API's epoch milliseconds.\nMore: docs/cli.md`);
  connectionOptions(program);

  // serve: the collector's own command line, untouched (collector/src/main.ts checks it).
  program
    .command('serve')
    .description('run the collector (the same flags as authwatch-collector; authwatch serve --help lists them)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .action(async (_o: unknown, cmd: Command) => {
      // Loaded only here: the collector (express, SQLite, OpenTelemetry) is not needed by the other commands.
      const { serveMain } = await import('@authwatch/collector/dist/main');
      serving = true;
      await serveMain(cmd.args, 'authwatch serve');
    });

  const add = (cmd: Command) => {
    connectionOptions(cmd);
    cmd.addHelpText('after', `\n${ENVIRONMENT}\n\n${EXIT_CODES}`);
    program.addCommand(cmd);
  };
  add(statusCommand());
  add(eventsCommand());
  add(sessionsCommand());
  add(lockoutsCommand());
  add(unlockCommand());
  add(terminateCommand());
  add(policyCommand());
  add(checkCommand());
  add(tailCommand());
  add(importCommand());
  // Commands added with addCommand do not inherit these settings.
  for (const cmd of program.commands) {
    cmd.exitOverride().showHelpAfterError();
    for (const sub of cmd.commands) {
      connectionOptions(sub);
      sub.exitOverride().showHelpAfterError();
    }
  }
  return program;
}

export async function run(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? EXIT.OK : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed the message (and the usage after it).
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      process.stderr.write(`authwatch: ${err.message}\n`);
      return err.exitCode;
    }
    // Unexpected: the message, and the stack only when asked for.
    process.stderr.write(`authwatch: ${err instanceof Error ? (process.env.AUTHWATCH_DEBUG ? (err.stack ?? err.message) : err.message) : String(err)}\n`);
    return EXIT.ERROR;
  }
}

if (require.main === module) {
  void run().then((code) => {
    // serve keeps running; everything else ends here (stdout flushed first).
    if (!serving || code !== EXIT.OK) process.stdout.write('', () => process.exit(code));
  });
}
