// GET /v1/policy (read), PUT /v1/policy (admin; validated, partial bodies merged; audited).
import { Router } from 'express';
import { derivedEvent } from '../schema/derived-event';
import { validatePolicy } from '../schema/policy';
import type { Policy } from '../store/store';
import { requireJson, jsonBody } from '../http/body';
import { actor } from '../http/auth';
import type { ApiContext } from '../http/context';
import { badRequest } from '../http/errors';
import { onlyParams } from './params';

export function policyRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/policy', ctx.auth('read'), onlyParams(), async (_req, res) => {
    res.json(await ctx.store.getPolicy());
  });
  r.put('/v1/policy', ctx.auth('admin'), requireJson, jsonBody, async (req, res) => {
    const who = actor(req);
    const policy = await ctx.pipeline.run(async (pctx) => {
      const current = await pctx.tx.getPolicy();
      const v = validatePolicy(req.body, current);
      if ('errors' in v) throw badRequest(`invalid policy: ${v.errors.map((e) => `${e.path || 'body'}: ${e.message}`).join('; ')}`, v.errors);
      await pctx.tx.putPolicy(v.policy);
      const changed: Record<string, string | number | boolean> = {};
      for (const k of Object.keys(v.policy) as (keyof Policy)[]) {
        if (v.policy[k] !== current[k]) changed[k] = v.policy[k] ?? 'null';
      }
      pctx.emit(derivedEvent(pctx.now, { time: pctx.now, type: 'admin', user: who, reason: 'policy_update', actor: who, attributes: changed }));
      return v.policy;
    });
    res.json(policy);
  });
  return r;
}
