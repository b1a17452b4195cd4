// brute_force: many failed logins against one account in a short window, from any number of
// addresses (default 8 in 120 s: Wazuh sshd rule 5712/5720, frequency 8, timeframe 120).
import type { Processor } from '../../pipeline';
import type { DetectionConfig } from './config';
import { detectionEvent, isLoginAttempt, isUnknownUserFailure } from './detection-event';
import { WindowedKeys } from './windowed-keys';

export function createBruteForceDetection(config: DetectionConfig): Processor {
  const { failures, windowMs } = config.bruteForce;
  const keys = new WindowedKeys(windowMs, { users: false, ips: true }, config.cooldownMs, config.maxTrackedKeys);
  return {
    name: 'detect_brute_force',
    async process(events, ctx) {
      for (const e of events) {
        if (!isLoginAttempt(e) || e.outcome !== 'failure') continue;
        const w = keys.add(e.user, { t: e.time, user: e.user, ip: e.ip, failure: true, unknownUser: isUnknownUserFailure(e) });
        if (w.failures >= failures && keys.mayFire(e.user, e.time)) {
          ctx.emit(
            detectionEvent('brute_force', e, e.user, ctx.now, {
              failures: w.failures,
              window_seconds: windowMs / 1000,
              distinct_ips: w.distinctIps,
            }),
          );
        }
      }
      keys.expire();
    },
  };
}
