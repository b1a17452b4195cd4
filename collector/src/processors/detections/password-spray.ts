// password_spray: one address failing against many different accounts — a few common passwords
// tried across the user base to stay under per-account lockout (MITRE ATT&CK T1110.003).
// Default: failures for at least 11 distinct users from one IP within 30 minutes (Sigma
// "Multiple Users Remotely Failing To Authenticate From Single Source" and Google SecOps
// win_password_spray both fire on more than 10 users, the latter over 30 m), and at least half of
// the IP's attempts failing so an office NAT with a few typos among hundreds of logins is quiet.
import type { Processor } from '../../pipeline/contracts';
import type { DetectionConfig } from './config';
import { detectionEvent, isLoginAttempt, isUnknownUserFailure } from './detection-event';
import { DetectionWindows } from './windowed-keys';

export function createPasswordSprayDetection(config: DetectionConfig): Processor {
  const { users, windowMs, minFailureRatio } = config.spray;
  const windows = new DetectionWindows('password_spray', windowMs, { users: true, ips: false }, config.cooldownMs, config.maxTrackedKeys);
  return {
    name: 'detect_password_spray',
    async process(events, ctx) {
      const attempts = events.filter((e) => isLoginAttempt(e) && e.ip);
      if (!attempts.length) return;
      await windows.batch(
        ctx,
        attempts.map((e) => e.ip!),
        (keys) => {
          for (const e of attempts) {
            const ip = e.ip!;
            const failure = e.outcome === 'failure';
            const w = keys.add(ip, { t: e.time, user: e.user, ip, failure, unknownUser: isUnknownUserFailure(e) });
            if (!failure || w.failingUsers < users) continue;
            const ratio = w.failures / w.attempts;
            if (ratio < minFailureRatio || !keys.mayFire(ip, e.time)) continue;
            ctx.emit(
              detectionEvent('password_spray', e, e.user, ctx.now, {
                distinct_users: w.failingUsers,
                failures: w.failures,
                attempts: w.attempts,
                failure_ratio: round(ratio),
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

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
