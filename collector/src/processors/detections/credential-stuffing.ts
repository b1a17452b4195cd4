// credential_stuffing: one address replaying a list of stolen username/password pairs (OWASP
// Automated Threat OAT-008). Unlike a spray, each account is tried about once with its own
// password, most pairs fail and a small share succeed (commonly reported campaign success rates
// are 0.1–2 %), while many names do not exist on this site at all (OWASP Credential Stuffing
// Prevention Cheat Sheet). Default: at least 20 distinct accounts from one IP within 10 minutes,
// at least 80 % of attempts failing, and either at least one success or at least half of the
// failures naming an unknown account (invalid_user…).
import { type AddressRule, round } from './address-windows';
import type { DetectionConfig } from './config';

export function credentialStuffingRule(config: DetectionConfig): AddressRule {
  const { users, windowMs, minFailureRatio, minSuccesses, unknownUserShare } = config.stuffing;
  return {
    kind: 'credential_stuffing',
    windowMs,
    rule: (w) => {
      if (w.distinctUsers < users) return null;
      const ratio = w.failures / w.attempts;
      if (ratio < minFailureRatio) return null;
      const unknownShare = w.failures > 0 ? w.unknownUserFailures / w.failures : 0;
      const hasSuccesses = minSuccesses > 0 && w.successes >= minSuccesses;
      if (!hasSuccesses && unknownShare < unknownUserShare) return null;
      return {
        distinct_users: w.distinctUsers,
        attempts: w.attempts,
        failures: w.failures,
        successes: w.successes,
        failure_ratio: round(ratio),
        unknown_user_share: round(unknownShare),
      };
    },
  };
}
