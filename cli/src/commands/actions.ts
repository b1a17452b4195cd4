// authwatch unlock USER | --ip IP|CIDR, authwatch terminate SESSION | --user USER: the admin
// actions (an admin key). A user the collector has never seen is a 404 from the collector: "no
// such user", exit 3, and nothing is recorded.
import { Command } from 'commander';
import ipaddr from 'ipaddr.js';
import { CliError, EXIT, call, send, httpError } from '../api';
import { connectionOf } from '../connection';
import { listSessions, type LockView } from './lists';

const write = (s: string) => process.stdout.write(s + '\n');
const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/** A CIDR the API cannot take as one key (any IPv4 range; an IPv6 prefix shorter than the block size). */
function parseCidr(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  try {
    return ipaddr.parseCIDR(text);
  } catch {
    return null;
  }
}

function inRange(ip: string, range: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
  // A lock's ip can be an IPv6 block ("2001:db8:1:2::/64"): its network address decides.
  const bare = ip.includes('/') ? ip.slice(0, ip.indexOf('/')) : ip;
  if (!ipaddr.isValid(bare)) return false;
  const addr = ipaddr.process(bare);
  return addr.kind() === range[0].kind() && addr.match(range);
}

export function unlockCommand(): Command {
  return new Command('unlock')
    .description("lift a user's locks, or an address's blocks (admin key)")
    .argument('[user]', 'user name as the application reports it')
    .option('--ip <address|cidr>', 'an address, an IPv6 block (2001:db8:1:2::/64), or a range: every blocked address in it')
    .addHelpText('after', '\nExamples:\n  authwatch unlock alice\n  authwatch unlock --ip 203.0.113.7\n  authwatch unlock --ip 203.0.113.0/24')
    .action(async (user: string | undefined, o: { ip?: string }, self: Command) => {
      if ((user === undefined) === (o.ip === undefined)) throw new CliError('give a USER or --ip ADDRESS|CIDR (one of them)', EXIT.USAGE);
      const conn = connectionOf(self);
      if (user !== undefined) {
        const r = await call<{ unlocked: number }>(conn, 'POST', `/v1/users/${encodeURIComponent(user)}/unlock`, {
          notFound: `no such user: "${user}" (the collector has no events or locks for it; check the spelling)`,
        });
        write(r.unlocked ? `unlocked ${user}: ${plural(r.unlocked, 'lock')} lifted` : `${user} had no lock in force (nothing lifted; failure counts reset)`);
        return;
      }
      const ip = o.ip!;
      const res = await send(conn, 'POST', `/v1/ips/${encodeURIComponent(ip)}/unlock`);
      if (res.ok) {
        const r = (await res.json()) as { unlocked: number };
        write(r.unlocked ? `unlocked ${ip}: ${plural(r.unlocked, 'lock')} lifted` : `${ip} had no block in force (nothing lifted; failure counts reset)`);
        return;
      }
      const range = res.status === 400 ? parseCidr(ip) : null;
      if (!range) throw await httpError(res, `unlock --ip ${ip}`);
      await res.text().catch(() => undefined);
      // A range: lift the locks in force whose address lies in it, one address at a time.
      const locks = (await call<{ lockouts: LockView[] }>(conn, 'GET', '/v1/lockouts', { query: { state: 'locked', limit: 10_000 } })).lockouts;
      const ips = [...new Set(locks.filter((l) => l.ip !== null && inRange(l.ip, range)).map((l) => l.ip!))];
      let lifted = 0;
      for (const one of ips) lifted += (await call<{ unlocked: number }>(conn, 'POST', `/v1/ips/${encodeURIComponent(one)}/unlock`)).unlocked;
      write(ips.length ? `unlocked ${plural(ips.length, 'address', 'addresses')} in ${ip}: ${plural(lifted, 'lock')} lifted (${ips.join(', ')})` : `no lock in force inside ${ip}`);
    });
}

const FULL_ID = /^[0-9a-f]{64}$/;
const ID_PREFIX = /^[0-9a-f]{6,63}$/;

export function terminateCommand(): Command {
  return new Command('terminate')
    .description("end a session, or all of a user's active sessions (admin key)")
    .argument('[session]', 'session id: as listed by authwatch sessions (a unique start of it is enough), or the raw id the application knows')
    .option('-u, --user <name>', "end every active session of this user")
    .addHelpText('after', '\nExamples:\n  authwatch terminate --user alice\n  authwatch terminate 3f9a1c2b7d4e')
    .action(async (session: string | undefined, o: { user?: string }, self: Command) => {
      if ((session === undefined) === (o.user === undefined)) throw new CliError('give a SESSION id or --user USER (one of them)', EXIT.USAGE);
      const conn = connectionOf(self);
      if (o.user !== undefined) {
        const r = await call<{ terminated: number }>(conn, 'POST', `/v1/users/${encodeURIComponent(o.user)}/sessions/terminate`, {
          notFound: `no such user: "${o.user}" (the collector has never seen it; check the spelling)`,
        });
        write(r.terminated ? `ended ${plural(r.terminated, 'session')} of ${o.user}` : `${o.user} had no active session`);
        return;
      }
      let id = session!;
      if (!FULL_ID.test(id) && ID_PREFIX.test(id)) {
        // The start of a listed id: find the one session it names (active ones first).
        let matches = (await listSessions(conn, { state: 'active', limit: 50_000 })).filter((s) => s.id.startsWith(id));
        if (!matches.length) matches = (await listSessions(conn, { state: 'all', limit: 50_000 })).filter((s) => s.id.startsWith(id));
        if (matches.length > 1) throw new CliError(`"${id}" is the start of ${matches.length} session ids: give more of it`, EXIT.USAGE);
        if (matches.length === 1) id = matches[0].id;
      }
      const r = await call<{ id: string; end_reason: string }>(conn, 'POST', `/v1/sessions/${encodeURIComponent(id)}/terminate`, {
        notFound: `no such session: "${session}"`,
        what: `session ${id.slice(0, 12)}`,
      });
      write(`ended session ${r.id.slice(0, 12)} (${r.end_reason})`);
    });
}
