// PLACEHOLDER — the enrichment work (geo, ASN/ISP, user agent, IP truncation) replaces this body;
// keep the exported name and signature: server.ts runs these in order on every accepted event.
import type { Enricher } from '../pipeline';

export function createEnrichers(_env: NodeJS.ProcessEnv): Enricher[] {
  return [];
}
