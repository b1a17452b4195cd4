// The admin actions (unlock, terminate sessions, change the policy): each runs as one store write
// transaction through the Pipeline and emits its audit events there, so they commit with the
// change and reach the sinks like any event. Routes in api/ only parse, authorise and answer.
import { ipCounter, ipUnlockKey, keyRules, userCounter, userLockKey } from '../schema/lock-keys';
import type { ProcessContext } from '../pipeline/contracts';
import type { Pipeline } from '../pipeline/runner';
import { endSession } from '../processors/sessions';
import { derivedEvent } from '../schema/derived-event';
import { validatePolicy } from '../schema/policy';
import type { CoreStore, LockRow, Policy, SessionRow } from '../store/store';
import { HttpError, badRequest } from '../http/errors';
import { requireKnownUser } from './known-user';

/** What the service needs from the composition root (the route context has all of it). */
export interface AdminDeps {
  store: CoreStore;
  pipeline: Pipeline;
  config: { ipTruncate: boolean };
  /** Keyed hash (hex) of a raw session id. */
  hashSessionId(raw: string): string;
}

export interface TerminatedSession {
  id: string;
  state: 'ended';
  end_reason: 'terminated_by_admin';
}

const HASH = /^[0-9a-f]{64}$/;

/** Lifts the locks of one key, clears its failure counter and audits it, in one transaction. */
function unlockKey(pipeline: Pipeline, lock: { user: string } | { ip: string }, who: string, subject: string): Promise<number> {
  const [counter, action, keys] =
    'user' in lock ? [userCounter(lock.user), 'unlock_user', { users: [lock.user] }] : [ipCounter(lock.ip), 'unlock_ip', { ips: [lock.ip] }];
  return pipeline.run(async (pctx) => {
    const lifted = await pctx.tx.unlock(lock, pctx.now, who);
    await pctx.tx.clearFailures([counter]);
    recordUnlocks(pctx, lifted, who, subject, action);
    return lifted.length;
  }, keys);
}

function recordUnlocks(pctx: ProcessContext, lifted: LockRow[], who: string, subject: string, action: string): void {
  for (const l of lifted) {
    const attributes: Record<string, string | number | boolean> = { scope: l.scope, lock_id: l.id };
    if (l.ip) attributes.ip = l.ip;
    pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'unlock', user: l.user ?? subject, ip: l.ip, actor: who, reason: 'admin_unlock', attributes }));
  }
  pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: subject, reason: action, actor: who, attributes: { unlocked: lifted.length } }));
}

export function createAdminService(deps: AdminDeps) {
  const { store, pipeline } = deps;
  const rules = async () => keyRules(await store.getPolicy(), deps.config.ipTruncate);

  /** The raw id the application knows, or the hash the list shows; `self` limits to one user's sessions. */
  async function findSession(id: string, self: string | undefined, lookup: (id: string) => Promise<SessionRow | undefined>) {
    let s = await lookup(deps.hashSessionId(id));
    if (!s && HASH.test(id)) s = await lookup(id);
    if (s && self !== undefined && s.user !== self) return undefined;
    return s;
  }

  return {
    /** Lifts the user's locks and clears their failure counter; 404 for a user never seen. */
    async unlockUser(user: string, who: string): Promise<number> {
      await requireKnownUser(deps, user);
      return unlockKey(pipeline, { user: userLockKey(user, await rules()) }, who, user);
    },

    /** An address, or the IPv6 prefix it is blocked under; 400 for anything else. */
    async unlockIp(ip: string, who: string): Promise<number> {
      const r = await rules();
      const key = ip.length <= 64 ? ipUnlockKey(ip, r) : null;
      if (!key) {
        throw badRequest(
          `"${ip.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}" is not an IP address or a blockable prefix (IPv4 address, IPv6 address or /${r.ipv6Prefix}…/128 prefix)`,
        );
      }
      return unlockKey(pipeline, { ip: key }, who, key);
    },

    /** 404 for an unknown session (or another user's under a self view), 409 when it already ended. */
    async terminateSession(id: string, who: string, self: string | undefined): Promise<TerminatedSession> {
      return pipeline.run(async (pctx) => {
        const s = await findSession(id, self, (h) => pctx.tx.getSession(h));
        if (!s) throw new HttpError(404, 'unknown session');
        if (s.ended_at !== null) throw new HttpError(409, `session already ended (${s.end_reason ?? 'unknown reason'})`);
        await endSession(pctx, s, pctx.now, 'terminated_by_admin', who);
        pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: s.user, reason: 'terminate_session', session_id: s.id, actor: who }));
        return { id: s.id, state: 'ended', end_reason: 'terminated_by_admin' } as const;
      });
    },

    /** Ends every active session of the user; 404 for a user never seen. */
    async terminateUserSessions(user: string, who: string): Promise<number> {
      await requireKnownUser(deps, user);
      return pipeline.run(async (pctx) => {
        let n = 0;
        for (const s of await pctx.tx.activeSessionsOfUser(user)) if (await endSession(pctx, s, pctx.now, 'terminated_by_admin', who)) n++;
        pctx.emit(
          derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user, reason: 'terminate_user_sessions', actor: who, attributes: { terminated: n } }),
        );
        return n;
      });
    },

    /** Validates a (partial) policy against the current one, stores it and audits what changed. */
    async updatePolicy(body: unknown, who: string): Promise<Policy> {
      return pipeline.run(async (pctx) => {
        const current = await pctx.tx.getPolicy();
        const v = validatePolicy(body, current);
        if ('errors' in v) throw badRequest(`invalid policy: ${v.errors.map((e) => `${e.path || 'body'}: ${e.message}`).join('; ')}`, v.errors);
        await pctx.tx.putPolicy(v.policy);
        const changed: Record<string, string | number | boolean> = {};
        for (const k of Object.keys(v.policy) as (keyof Policy)[]) {
          if (v.policy[k] !== current[k]) changed[k] = v.policy[k] ?? 'null';
        }
        pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: who, reason: 'policy_update', actor: who, attributes: changed }));
        return v.policy;
      });
    },

    /** For the session state route (ingest or read). */
    findSession: (id: string, self: string | undefined) => findSession(id, self, (h) => store.getSession(h)),
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
