// authwatch status: the collector at a glance, like `fail2ban-client status`: health, what the
// key may do, today's events and failures, active sessions, locks in force.
import { Command } from 'commander';
import { CliError, EXIT, call, send } from '../api';
import { connectionOf } from '../connection';
import { localOffset, localTime, localZone, printable, startOfToday } from '../format';
import type { LockView } from './lists';

interface Stats {
  logins: number;
  failures: number;
  failure_ratio: number;
  active_sessions: number;
  locked_accounts: number;
  unique_users: number;
}

export function statusCommand(): Command {
  return new Command('status')
    .description('health, events and failures today, active sessions, locks in force (read key)')
    .option('--json', 'print it as JSON (times in epoch milliseconds)')
    .action(async (o: { json?: boolean }, self: Command) => {
      const conn = connectionOf(self);
      const health = await send(conn, 'GET', '/healthz');
      if (!health.ok) throw new CliError(`the collector at ${conn.url} is not healthy: /healthz answered HTTP ${health.status}`, EXIT.ERROR);
      const since = startOfToday();
      const [who, stats, today, locks] = await Promise.all([
        call<{ role: string; key: string }>(conn, 'GET', '/v1/whoami'),
        call<Stats>(conn, 'GET', '/v1/stats', { query: { from: since } }),
        call<{ total: number }>(conn, 'GET', '/v1/events', { query: { from: since, limit: 1 } }),
        call<{ lockouts: LockView[] }>(conn, 'GET', '/v1/lockouts', { query: { state: 'locked', limit: 10_000 } }),
      ]);
      if (o.json) {
        process.stdout.write(
          JSON.stringify(
            { url: conn.url, health: 'ok', role: who.role, key: who.key, since, events_today: today.total, ...stats, locks: locks.lockouts },
            null,
            2,
          ) + '\n',
        );
        return;
      }
      const attempts = stats.logins + stats.failures;
      const lockList = locks.lockouts.map((l) => {
        const what = l.scope === 'ip' ? l.ip : l.scope === 'user_ip' ? `${l.user} from ${l.ip}` : l.user;
        return `${printable(String(what))} (${l.scope}, ${l.locked_until === null ? 'until unlocked' : `until ${localTime(l.locked_until)}`})`;
      });
      const lines = [
        `Status of ${conn.url}`,
        `|- Health:           ok (key role: ${who.role}${who.key ? `, "${printable(who.key)}"` : ''})`,
        `|- Today:            since ${localTime(since)} ${localOffset(since)} (${localZone()})`,
        `|  |- Events:        ${today.total}`,
        `|  |- Logins:        ${stats.logins} succeeded`,
        `|  |- Failures:      ${stats.failures}${attempts ? ` (${(stats.failure_ratio * 100).toFixed(1)} % of login attempts)` : ''}`,
        `|  \`- Users:         ${stats.unique_users}`,
        `|- Active sessions:  ${stats.active_sessions}`,
        `\`- Locks in force:   ${locks.lockouts.length}${stats.locked_accounts !== locks.lockouts.length ? ` (${stats.locked_accounts} accounts)` : ''}`,
      ];
      if (lockList.length) lines.push(`   \`- Locked:         ${lockList.slice(0, 20).join(', ')}${lockList.length > 20 ? `, … (${lockList.length - 20} more: authwatch lockouts)` : ''}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
