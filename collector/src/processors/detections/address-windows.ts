// The processor for the address-centred detections (password spray, credential stuffing): every
// login attempt with an address goes into its address's windows, one per detection and each of
// its own length, each detection's rule reads its window, and a hit becomes a detection event
// (cooldown per detection and address). One processor for both, so with several replicas an
// address's windows are one state row, read and written once per batch instead of once per
// detection (docs/scale-out.md).
import type { Processor } from '../../pipeline/contracts';
import type { AttributeValue, StoredEvent } from '../../schema/stored-event';
import type { AttemptWindow } from './attempt-window';
import type { DetectionConfig, DetectionKind } from './config';
import { detectionEvent, isLoginAttempt, isUnknownUserFailure } from './detection-event';
import { DetectionWindows } from './windowed-keys';

/** One address detection: `rule` gives the evidence when the window (with `e` added) fires, else null. */
export interface AddressRule {
  kind: DetectionKind;
  windowMs: number;
  rule: (w: AttemptWindow, e: StoredEvent) => Record<string, AttributeValue> | null;
}

export function addressWindowDetections(rules: readonly AddressRule[], config: DetectionConfig): Processor {
  const windows = new DetectionWindows(rules, { users: true, ips: false }, config.cooldownMs, config.maxTrackedKeys);
  return {
    name: `detect_${rules.map((r) => r.kind).join('+')}`,
    async process(events, ctx) {
      const attempts = events.filter((e) => isLoginAttempt(e) && e.ip);
      if (!attempts.length) return;
      await windows.batch(
        ctx,
        attempts.map((e) => e.ip!),
        (keys) => {
          for (const e of attempts) {
            const ip = e.ip!;
            const ws = keys.add(ip, {
              t: e.time,
              user: e.user,
              ip,
              failure: e.outcome === 'failure',
              unknownUser: isUnknownUserFailure(e),
            });
            rules.forEach(({ kind, windowMs, rule }, i) => {
              const evidence = rule(ws[i], e);
              if (!evidence || !keys.mayFire(i, ip, e.time)) return;
              ctx.emit(
                detectionEvent(kind, e, e.user, ctx.now, {
                  ...evidence,
                  window_seconds: windowMs / 1000,
                  sample_users: ws[i].sampleUsers(5).join(','),
                }),
              );
            });
          }
        },
      );
    },
  };
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
