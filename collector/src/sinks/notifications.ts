// PLACEHOLDER — the notifications work (webhook, SMTP) replaces this body; keep the exported name
// and signature.
import type { Sink } from '../pipeline';

export function createNotificationSinks(_env: NodeJS.ProcessEnv): Sink[] {
  return [];
}
