// authwatch import FILE…: auth.log (plain or .gz), journald JSON (journalctl -o json), JSON or
// NDJSON events, CSV exported by Authwatch, posted to the collector's POST /v1/events in batches
// (an ingest key). Progress: a bar with lines, events/s and ETA on a terminal, plain periodic
// lines otherwise; a summary line per file.
import { Command, Option } from 'commander';
import { CliError, EXIT } from '../api';
import { connectionOf } from '../connection';
import { parseDuration, positiveInt } from '../format';
import { FORMATS, importFile, type Format, type ImportTotals } from '../import/run';

interface ImportOptions {
  format: Format | 'auto';
  authlogTz?: string;
  authlogMode: 'normal' | 'ddos' | 'extra' | 'aggressive';
  batch: string;
  progress: 'auto' | 'bar' | 'lines' | 'none';
  every: string;
}

export function importCommand(): Command {
  return new Command('import')
    .description('import log files or exported events into the collector (ingest key)')
    .argument('<file...>', 'files to import; - reads stdin')
    .addOption(new Option('-f, --format <format>', 'what the files hold (auto: by name and first line)').choices(['auto', ...FORMATS]).default('auto'))
    .option('--authlog-tz <zone>', 'zone of auth.log timestamps without an offset (default: this machine)')
    .addOption(new Option('--authlog-mode <mode>', "which sshd probe lines are failures, as fail2ban's sshd modes").choices(['normal', 'ddos', 'extra', 'aggressive']).default('normal'))
    .option('--batch <n>', 'events per POST (up to 10,000)', '1000')
    .addOption(new Option('--progress <how>', 'bar (terminal), lines (periodic lines on stderr) or none; auto: bar on a terminal').choices(['auto', 'bar', 'lines', 'none']).default('auto'))
    .option('--every <duration>', 'with --progress lines: how often', '2s')
    .addHelpText(
      'after',
      [
        '',
        'Formats (auto picks by the name, .gz is unpacked, then by the first line):',
        '  authlog   sshd lines of /var/log/auth.log or /var/log/secure (syslog or RFC 3339 times),',
        '            read by the collector\'s own parser (the events authwatch serve --authlog makes)',
        '  journald  journalctl -u ssh -o json (one JSON record per line; ids from __CURSOR)',
        '  json      a JSON array of events, or {"events": […]} as GET /v1/events answers',
        '  ndjson    one JSON event per line',
        '  csv       the CSV of GET /v1/events.csv / authwatch events --csv',
        'Events keep their ids, so importing a file twice stores nothing twice. Events the collector',
        'writes itself (lockout, unlock, detection, admin) are skipped: it makes its own.',
        '',
        'Examples:',
        '  authwatch import /var/log/auth.log /var/log/auth.log.2.gz',
        '  journalctl -u ssh -o json --since today | authwatch import -',
        '  authwatch events --since 1d --csv > day.csv && authwatch import --url http://other:4600 day.csv',
      ].join('\n'),
    )
    .action(async (files: string[], o: ImportOptions, self: Command) => {
      const conn = connectionOf(self);
      const batch = positiveInt(o.batch, '--batch', 10_000);
      const everyMs = parseDuration(o.every);
      if (everyMs === null || everyMs < 100) throw new CliError('--every must be a duration of at least 100ms (e.g. 2s)', EXIT.USAGE);
      if (files.filter((f) => f === '-').length > 1) throw new CliError('stdin (-) can be read only once', EXIT.USAGE);
      const progress = o.progress === 'auto' ? (process.stderr.isTTY ? 'bar' : 'lines') : o.progress;
      const totals: ImportTotals = { lines: 0, events: 0, accepted: 0, duplicates: 0, rejected: 0, skipped: 0 };
      const t0 = Date.now();
      const firstErrors: string[] = [];
      for (const file of files) {
        const r = await importFile(file, { conn, format: o.format, timezone: o.authlogTz, mode: o.authlogMode, batch, progress, everyMs });
        for (const k of Object.keys(totals) as (keyof ImportTotals)[]) totals[k] += r[k];
        firstErrors.push(...r.errors.slice(0, 5 - firstErrors.length));
      }
      if (files.length > 1) {
        const s = (Date.now() - t0) / 1000;
        process.stdout.write(
          `import: ${files.length} files: ${totals.lines} lines, ${totals.events} events: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected} refused, ${totals.skipped} skipped in ${s.toFixed(1)} s\n`,
        );
      }
      if (totals.rejected) {
        process.stderr.write(`authwatch: ${totals.rejected} events were refused by the collector; first reasons:\n${firstErrors.map((e) => `  ${e}`).join('\n')}\n`);
        process.exitCode = EXIT.ERROR;
      }
    });
}
