// authwatch check USER [IP]: POST /v1/check, the question an application asks before a login
// (an ingest key). Exit 0 when it would be allowed, 3 when refused, so scripts can branch on it.
import type { CheckAnswer as WireCheckAnswer } from '@authwatch/wire';
import { Command } from 'commander';
import { call } from '../api';
import { connectionOf } from '../connection';
import { humanDuration, localTime } from '../format';

type CheckAnswer = WireCheckAnswer;

const WHY: Record<string, string> = {
  user_locked: 'the account is locked',
  user_ip_locked: 'the account is locked for this address',
  ip_blocked: 'the address is blocked',
};

export function checkCommand(): Command {
  return new Command('check')
    .description('would a login of USER (from IP) be allowed now? exit 0 yes, 3 no (ingest key)')
    .argument('<user>', 'user name')
    .argument('[ip]', 'client address')
    .option('--json', "print the API's JSON")
    .addHelpText('after', '\nExamples:\n  authwatch check alice 203.0.113.7 && echo allowed')
    .action(async (user: string, ip: string | undefined, o: { json?: boolean }, self: Command) => {
      const r = await call<CheckAnswer>(connectionOf(self), 'POST', '/v1/check', { role: 'ingest', body: ip ? { user, ip } : { user } });
      const who = ip ? `${user} from ${ip}` : user;
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else if (r.allowed) process.stdout.write(`allowed: ${who}\n`);
      else {
        const until =
          r.retry_after === null || r.retry_after === undefined
            ? 'until an admin unlocks it (authwatch unlock)'
            : `retry after ${humanDuration(r.retry_after * 1000)} (at ${localTime(Date.now() + r.retry_after * 1000)})`;
        process.stdout.write(`refused: ${who}: ${WHY[r.reason ?? ''] ?? r.reason} (${r.reason}), ${until}\n`);
      }
      if (!r.allowed) process.exitCode = 3;
    });
}
