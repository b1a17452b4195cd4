// Small endpoints: health (no auth), whoami (any key), the OpenAPI document (any key).
import { Router } from 'express';
import { buildOpenApi } from '../schema/openapi';
import { principal } from '../http/auth';
import type { ApiContext } from '../http/context';
import { onlyParams } from './params';

export function metaRoutes(ctx: ApiContext): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/v1/whoami', ctx.auth('any'), onlyParams(), (req, res) => {
    const p = principal(req);
    res.json({ role: p.role, key: p.name });
  });
  let doc: unknown;
  r.get('/v1/openapi.json', ctx.auth('any'), onlyParams(), (_req, res) => {
    doc ??= buildOpenApi();
    res.json(doc);
  });
  return r;
}
