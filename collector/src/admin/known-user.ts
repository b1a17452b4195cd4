// Admin actions on a user name the collector has never seen are a 404, not an audit event: a typo
// must not end up in the user list (and in Grafana's user variable) as if it were a person.
import { keyRules, userLockKey } from '../schema/lock-keys';
import { unstorableText } from '../schema/event';
import { HttpError, badRequest } from '../http/errors';
import type { AdminDeps } from './service';

/** Throws 400 for a name no event can carry, 404 when no event, session or lock has it. */
export async function requireKnownUser(deps: AdminDeps, user: string): Promise<void> {
  if (!user || user.length > 256 || unstorableText(user)) throw badRequest('not a user name (1–256 characters, no U+0000)');
  const { store } = deps;
  const key = userLockKey(user, keyRules(await store.getPolicy(), deps.config.ipTruncate));
  const now = deps.pipeline.now();
  const seen =
    (await store.queryEvents({ user: [user] }, { limit: 1, cursor: null, order: 'desc' })).events.length > 0 ||
    (await store.listSessions({ state: 'all', user: [user], limit: 1 })).length > 0 ||
    (await store.listLockouts({ state: 'all', user: [key], now, limit: 1 })).length > 0;
  if (!seen) throw new HttpError(404, `no such user: the collector has no events, sessions or locks for ${JSON.stringify(user.slice(0, 64))}`);
}
