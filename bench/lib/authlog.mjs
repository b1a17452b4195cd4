// P5: sshd auth.log ingest vs fail2ban-regex on the same file. Needs a collector auth.log source;
// until one exists the bench prints "P5 skipped".
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The collector's auth.log source module, if it has one. */
export function findAuthLogSource(root) {
  const dir = join(root, 'collector/src/sources');
  if (!existsSync(dir)) return null;
  const f = readdirSync(dir).find((n) => /auth.?log|sshd|syslog/i.test(n) && n.endsWith('.ts') && !n.includes('.test.'));
  return f ? join(dir, f) : null;
}

export async function runP5() {
  throw new Error('P5 runner not written yet');
}
