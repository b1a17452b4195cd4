// The processor shape shared by the address-centred detections (password spray, credential
// stuffing): every login attempt with an address goes into its address's window, the detection's
// rule reads the window, and a hit becomes a detection event (cooldown per address).
import type { Processor } from '../../pipeline/contracts';
import type { AttributeValue, StoredEvent } from '../../schema/stored-event';
import type { AttemptWindow } from './attempt-window';
import type { DetectionConfig, DetectionKind } from './config';
import { detectionEvent, isLoginAttempt, isUnknownUserFailure } from './detection-event';
import { DetectionWindows } from './windowed-keys';

/** `rule`: the evidence when the address's window (with `e` added) fires, else null. */
export function addressWindowDetection(
  kind: DetectionKind,
  windowMs: number,
  config: DetectionConfig,
  rule: (w: AttemptWindow, e: StoredEvent) => Record<string, AttributeValue> | null,
): Processor {
  const windows = new DetectionWindows(kind, windowMs, { users: true, ips: false }, config.cooldownMs, config.maxTrackedKeys);
  return {
    name: `detect_${kind}`,
    async process(events, ctx) {
      const attempts = events.filter((e) => isLoginAttempt(e) && e.ip);
      if (!attempts.length) return;
      await windows.batch(
        ctx,
        attempts.map((e) => e.ip!),
        (keys) => {
          for (const e of attempts) {
            const ip = e.ip!;
            const w = keys.add(ip, { t: e.time, user: e.user, ip, failure: e.outcome === 'failure', unknownUser: isUnknownUserFailure(e) });
            const evidence = rule(w, e);
            if (!evidence || !keys.mayFire(ip, e.time)) continue;
            ctx.emit(detectionEvent(kind, e, e.user, ctx.now, { ...evidence, window_seconds: windowMs / 1000, sample_users: w.sampleUsers(5).join(',') }));
          }
        },
      );
    },
  };
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
