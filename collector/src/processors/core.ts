// The core's processors see the full store transaction (sessions, lockouts, policy). The context is
// a ProcessContext too, so the pluggable processors (detections) run on the same object.
import { newEventId } from '../schema/ids';
import type { ProcessContext } from '../pipeline';
import type { StoredEvent } from '../schema/stored-event';
import { blankEvent } from '../schema/stored-event';
import type { CoreWriteTx, Policy } from '../store/store';

export interface CoreProcessContext extends ProcessContext {
  tx: CoreWriteTx;
  /** The policy read at the start of this transaction. */
  policy: Policy;
}

export interface CoreProcessor {
  readonly name: string;
  process(events: StoredEvent[], ctx: CoreProcessContext): Promise<void>;
}

/** A collector-made event (session_end, lockout, unlock, admin) with a fresh id. */
export function derivedEvent(
  now: number,
  fields: Pick<StoredEvent, 'time' | 'type' | 'user'> & Partial<StoredEvent>,
): StoredEvent {
  return blankEvent({ id: newEventId(now), received_at: now, ...fields });
}
