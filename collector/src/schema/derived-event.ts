// Events the collector makes itself (session_end, lockout, unlock, admin, detection).
import { newEventId } from './ids';
import type { StoredEvent } from './stored-event';
import { blankEvent } from './stored-event';

/** A collector-made event with a fresh id, received now. */
export function derivedEvent(
  now: number,
  fields: Pick<StoredEvent, 'time' | 'type' | 'user'> & Partial<StoredEvent>,
): StoredEvent {
  return blankEvent({ id: newEventId(now), received_at: now, ...fields });
}
