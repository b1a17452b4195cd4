// API keys and roles. Keys come from AUTHWATCH_{INGEST,READ,ADMIN}_KEYS, each entry `secret` or
// `name:secret`. Only SHA-256 digests are kept, compared with crypto.timingSafeEqual against every
// configured key (no early exit), so timing reveals neither the key nor which one matched.
import { createHash, timingSafeEqual } from 'node:crypto';

export type Role = 'ingest' | 'read' | 'admin';
export const ROLES: readonly Role[] = ['ingest', 'read', 'admin'];

export interface ApiKey {
  name: string;
  role: Role;
  digest: Buffer;
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function parseKeys(role: Role, list: string | undefined): ApiKey[] {
  if (!list) return [];
  const out: ApiKey[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const colon = entry.indexOf(':');
    const named = colon > 0 && NAME.test(entry.slice(0, colon)) && colon < entry.length - 1;
    const secret = named ? entry.slice(colon + 1) : entry;
    const digest = sha256(secret);
    const name = named ? entry.slice(0, colon) : `${role}-${digest.toString('hex').slice(0, 6)}`;
    out.push({ name, role, digest });
  }
  return out;
}

export class KeyRing {
  constructor(readonly keys: readonly ApiKey[]) {}

  static fromEnv(env: NodeJS.ProcessEnv): KeyRing {
    return new KeyRing([
      ...parseKeys('ingest', env.AUTHWATCH_INGEST_KEYS),
      ...parseKeys('read', env.AUTHWATCH_READ_KEYS),
      ...parseKeys('admin', env.AUTHWATCH_ADMIN_KEYS),
    ]);
  }

  get empty(): boolean {
    return this.keys.length === 0;
  }

  /** The key matching `secret`, or undefined. */
  find(secret: string): ApiKey | undefined {
    const d = sha256(secret);
    let found: ApiKey | undefined;
    for (const k of this.keys) if (timingSafeEqual(d, k.digest) && !found) found = k;
    return found;
  }
}
