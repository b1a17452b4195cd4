// authwatch policy get | set key=value…: GET /v1/policy, and PUT /v1/policy with
// Content-Type: application/json (a partial body; the collector validates and merges it).
import { Command } from 'commander';
import { CliError, EXIT, call } from '../api';
import { connectionOf } from '../connection';
import { humanDuration, keyValues, parseDuration } from '../format';

type Policy = Record<string, string | number | boolean | null>;

const write = (s: string) => process.stdout.write(s + '\n');

/** "5" → 5, "true" → true, "null" → null, "15m" for a *_seconds key → 900, anything else as text. */
export function policyValue(key: string, raw: string): string | number | boolean | null {
  if (raw === 'null') return null;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if (key.endsWith('_seconds')) {
    const ms = parseDuration(raw);
    if (ms !== null) return Math.round(ms / 1000);
  }
  return raw;
}

function show(p: Policy): string {
  return keyValues(
    Object.entries(p).map(([k, v]) => [k, k.endsWith('_seconds') && typeof v === 'number' ? `${v} (${humanDuration(v * 1000)})` : v === null ? 'null' : String(v)]),
  );
}

export function policyCommand(): Command {
  const cmd = new Command('policy').description('show or change the lockout and session policy');
  cmd
    .command('get')
    .description('print the policy (read key)')
    .option('--json', "print the API's JSON")
    .action(async (o: { json?: boolean }, self: Command) => {
      const p = await call<Policy>(connectionOf(self), 'GET', '/v1/policy');
      write(o.json ? JSON.stringify(p, null, 2) : show(p));
    });
  cmd
    .command('set')
    .description('change policy fields (admin key); the others keep their values')
    .argument('<key=value...>', 'e.g. max_failed_attempts=5 lock_seconds=15m escalation=linear permanent_after=null')
    .option('--json', "print the API's JSON")
    .addHelpText(
      'after',
      '\nFields (docs/collector.md, "Lockouts"): max_failed_attempts, window_seconds, lock_seconds, escalation (none, linear,\nmultiple), max_lock_seconds, permanent_after (number or null), scope (user, user_ip), ip_max_failed_attempts,\nidle_timeout_seconds, single_session, session_ip_binding. *_seconds take seconds or a duration (90s, 15m, 1h, 7d).',
    )
    .action(async (pairs: string[], o: { json?: boolean }, self: Command) => {
      const body: Policy = {};
      for (const pair of pairs) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new CliError(`"${pair}" is not key=value (e.g. max_failed_attempts=5)`, EXIT.USAGE);
        const key = pair.slice(0, eq).trim();
        body[key] = policyValue(key, pair.slice(eq + 1).trim());
      }
      const p = await call<Policy>(connectionOf(self), 'PUT', '/v1/policy', { body });
      write(o.json ? JSON.stringify(p, null, 2) : `policy updated (${Object.keys(body).join(', ')})\n${show(p)}`);
    });
  return cmd;
}
