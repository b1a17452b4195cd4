// GET /v1/policy (read), PUT /v1/policy (admin; admin/service.ts validates, merges partial bodies,
// stores and audits).
import { Router } from 'express';
import { createAdminService } from '../admin/service';
import { requireJson, jsonBody } from '../http/body';
import { actor } from '../http/auth';
import type { ApiContext } from '../http/context';
import { onlyParams } from './params';

export function policyRoutes(ctx: ApiContext): Router {
  const r = Router();
  const admin = createAdminService(ctx);
  r.get('/v1/policy', ctx.auth('read'), onlyParams(), async (_req, res) => {
    res.json(await ctx.store.getPolicy());
  });
  r.put('/v1/policy', ctx.auth('admin'), requireJson, jsonBody, async (req, res) => {
    res.json(await admin.updatePolicy(req.body, actor(req)));
  });
  return r;
}
