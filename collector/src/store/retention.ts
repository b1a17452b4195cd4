// PLACEHOLDER — the privacy work (retention purge) replaces this body; keep the exported name and
// signature. Returns a function that stops the schedule.
import type { Store } from './store';

export function startRetention(_store: Store, _env: NodeJS.ProcessEnv): () => void {
  return () => {};
}
