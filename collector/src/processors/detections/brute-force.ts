// brute_force: many failed logins against one account in a short window, from any number of
// addresses (default 8 in 120 s: Wazuh sshd rule 5712/5720, frequency 8, timeframe 120).
import type { Processor } from '../../pipeline/contracts';
import type { DetectionConfig } from './config';
import { detectionEvent, isLoginAttempt, isUnknownUserFailure } from './detection-event';
import { DetectionWindows } from './windowed-keys';

export function createBruteForceDetection(config: DetectionConfig): Processor {
  const { failures, windowMs } = config.bruteForce;
  const windows = new DetectionWindows([{ kind: 'brute_force', windowMs }], { users: false, ips: true }, config.cooldownMs, config.maxTrackedKeys);
  return {
    name: 'detect_brute_force',
    async process(events, ctx) {
      const attempts = events.filter((e) => isLoginAttempt(e) && e.outcome === 'failure');
      if (!attempts.length) return;
      await windows.batch(
        ctx,
        attempts.map((e) => e.user),
        (keys) => {
          for (const e of attempts) {
            const [w] = keys.add(e.user, {
              t: e.time,
              user: e.user,
              ip: e.ip,
              failure: true,
              unknownUser: isUnknownUserFailure(e),
            });
            if (w.failures >= failures && keys.mayFire(0, e.user, e.time)) {
              ctx.emit(
                detectionEvent('brute_force', e, e.user, ctx.now, {
                  failures: w.failures,
                  window_seconds: windowMs / 1000,
                  distinct_ips: w.distinctIps,
                }),
              );
            }
          }
        },
      );
    },
  };
}
