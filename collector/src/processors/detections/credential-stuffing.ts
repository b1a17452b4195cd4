// credential_stuffing: one address replaying a list of stolen username/password pairs (OWASP
// Automated Threat OAT-008). Unlike a spray, each account is tried about once with its own
// password, most pairs fail and a small share succeed (commonly reported campaign success rates
// are 0.1–2 %), while many names do not exist on this site at all (OWASP Credential Stuffing
// Prevention Cheat Sheet). Default: at least 20 distinct accounts from one IP within 10 minutes,
// at least 80 % of attempts failing, and either at least one success or at least half of the
// failures naming an unknown account (invalid_user…).
import type { Processor } from '../../pipeline/contracts';
import type { DetectionConfig } from './config';
import { detectionEvent, isLoginAttempt, isUnknownUserFailure } from './detection-event';
import { DetectionWindows } from './windowed-keys';
import { round } from './password-spray';

export function createCredentialStuffingDetection(config: DetectionConfig): Processor {
  const { users, windowMs, minFailureRatio, minSuccesses, unknownUserShare } = config.stuffing;
  const windows = new DetectionWindows('credential_stuffing', windowMs, { users: true, ips: false }, config.cooldownMs, config.maxTrackedKeys);
  return {
    name: 'detect_credential_stuffing',
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
            if (w.distinctUsers < users) continue;
            const ratio = w.failures / w.attempts;
            if (ratio < minFailureRatio) continue;
            const unknownShare = w.failures > 0 ? w.unknownUserFailures / w.failures : 0;
            const hasSuccesses = minSuccesses > 0 && w.successes >= minSuccesses;
            if (!hasSuccesses && unknownShare < unknownUserShare) continue;
            if (!keys.mayFire(ip, e.time)) continue;
            ctx.emit(
              detectionEvent('credential_stuffing', e, e.user, ctx.now, {
                distinct_users: w.distinctUsers,
                attempts: w.attempts,
                failures: w.failures,
                successes: w.successes,
                failure_ratio: round(ratio),
                unknown_user_share: round(unknownShare),
                window_seconds: windowMs / 1000,
                sample_users: w.sampleUsers(5).join(','),
              }),
            );
          }
        },
      );
    },
  };
}
