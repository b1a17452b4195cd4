// P5: sshd auth.log ingest vs fail2ban-regex on the same file. The file is synthetic but in the
// Debian syslog format sshd/PAM write (failed and accepted logins, invalid users, preauth
// disconnects, PAM session lines). fail2ban-regex runs its stock sshd filter over it; the
// collector side runs once the collector has an auth.log source wired into its command line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rng, ipFor } from './events.mjs';

/**
 * How to run the collector's auth.log source, or null: the source must be built into dist and
 * reachable from the CLI (a flag in config/main). An unwired source file does not count.
 */
export function findAuthLogSource(distDir) {
  const built = join(distDir, 'sources/authlog.js');
  if (!existsSync(built)) return null;
  const cli = ['config.js', 'main.js', 'sources/authlog-cli.js']
    .map((f) => join(distDir, f))
    .filter(existsSync)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  if (/['"`]authlog['"`]/.test(cli)) return { built, flag: 'authlog' };
  const m = /['"`](auth-?log)['"`]/i.exec(cli);
  return m ? { built, flag: m[1] } : { built, flag: null };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Writes `lines` sshd/PAM lines to file; returns the count of failure lines fail2ban should match. */
export function writeAuthLog(file, lines, seed = 5) {
  const rand = rng(seed);
  const start = Date.now() - lines * 50;
  const out = [];
  let failures = 0;
  for (let i = 0; i < lines; i++) {
    const d = new Date(start + i * 50);
    const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    const pid = 1000 + Math.floor(rand() * 60000);
    const ip = ipFor(rand);
    const user = rand() < 0.3 ? 'root' : `user${Math.floor(rand() * 500)}`;
    const port = 1024 + Math.floor(rand() * 60000);
    const r = rand();
    let msg;
    if (r < 0.4) {
      msg = `Failed password for ${user} from ${ip} port ${port} ssh2`;
      failures++;
    } else if (r < 0.55) {
      msg = `Failed password for invalid user ${user} from ${ip} port ${port} ssh2`;
      failures++;
    } else if (r < 0.65) {
      msg = `Invalid user ${user} from ${ip} port ${port}`;
      failures++;
    } else if (r < 0.8) {
      msg = `Accepted publickey for ${user} from ${ip} port ${port} ssh2: ED25519 SHA256:${Buffer.from(String(i)).toString('base64')}`;
    } else if (r < 0.9) {
      msg = `pam_unix(sshd:session): session opened for user ${user}(uid=1000) by (uid=0)`;
    } else {
      msg = `Connection closed by authenticating user ${user} ${ip} port ${port} [preauth]`;
    }
    out.push(`${stamp} bastion sshd[${pid}]: ${msg}`);
  }
  writeFileSync(file, out.join('\n') + '\n');
  return failures;
}

/** fail2ban-regex with the stock sshd filter: wall time and matched lines. */
export function runFail2banRegex(file) {
  const t = performance.now();
  const r = spawnSync('fail2ban-regex', [file, 'sshd'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t) / 1000;
  if (r.error) throw new Error(`fail2ban-regex: ${r.error.message}`);
  const m = /Lines:\s+(\d+) lines, \d+ ignored, (\d+) matched/.exec(r.stdout);
  return { seconds, lines: m ? Number(m[1]) : null, matched: m ? Number(m[2]) : null, status: r.status };
}

/**
 * The collector reading the same file through its auth.log source (`--<flag> <file>`, not
 * following), timed from listening to the moment the stored event count stops growing.
 */
export async function runCollectorOnAuthLog({ startServer, root, main, file, dbFile, keys, flag, countEvents }) {
  const c = await startServer([main, '--no-demo', `--${flag}`, file], {
    cwd: root,
    name: 'collector (auth.log)',
    env: {
      AUTHWATCH_HOST: '127.0.0.1', AUTHWATCH_PORT: '0', AUTHWATCH_STORE: `sqlite:${dbFile}`, AUTHWATCH_DEMO: '0',
      AUTHWATCH_INGEST_KEYS: keys.ingest, AUTHWATCH_READ_KEYS: keys.read, AUTHWATCH_ADMIN_KEYS: keys.admin,
    },
  });
  // From the moment it listens: startup (loading geo data) is not parsing speed.
  const t0 = performance.now();
  try {
    let last = -1;
    let lastChange = performance.now();
    while (performance.now() - lastChange < 2000 && performance.now() - t0 < 600_000) {
      await new Promise((r) => setTimeout(r, 100));
      const n = await countEvents(c.url);
      if (n !== last) {
        last = n;
        lastChange = performance.now();
      }
    }
    return { seconds: (lastChange - t0) / 1000, events: last };
  } finally {
    await c.stop();
  }
}
