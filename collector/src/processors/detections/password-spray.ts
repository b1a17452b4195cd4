// password_spray: one address failing against many different accounts — a few common passwords
// tried across the user base to stay under per-account lockout (MITRE ATT&CK T1110.003).
// Default: failures for at least 11 distinct users from one IP within 30 minutes (Sigma
// "Multiple Users Remotely Failing To Authenticate From Single Source" and Google SecOps
// win_password_spray both fire on more than 10 users, the latter over 30 m), and at least half of
// the IP's attempts failing so an office NAT with a few typos among hundreds of logins is quiet.
import { type AddressRule, round } from './address-windows';
import type { DetectionConfig } from './config';

// user-profile.ts reads the rounding from here.
export { round };

export function passwordSprayRule(config: DetectionConfig): AddressRule {
  const { users, windowMs, minFailureRatio } = config.spray;
  return {
    kind: 'password_spray',
    windowMs,
    rule: (w, e) => {
      if (e.outcome !== 'failure' || w.failingUsers < users) return null;
      const ratio = w.failures / w.attempts;
      if (ratio < minFailureRatio) return null;
      return {
        distinct_users: w.failingUsers,
        failures: w.failures,
        attempts: w.attempts,
        failure_ratio: round(ratio),
      };
    },
  };
}
