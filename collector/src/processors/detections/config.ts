// Detection thresholds, read from AUTHWATCH_DETECT_*. Every default and where it comes from is
// listed in docs/enrichment.md ("Detections").

import { DETECTION_KINDS, type DetectionKind } from '../../schema/reasons';

export { DETECTION_KINDS, type DetectionKind };

export interface DetectionConfig {
  kinds: ReadonlySet<DetectionKind>;
  /** Same kind, same key (user or IP): at most one detection per cooldown. */
  cooldownMs: number;
  /** Bound on users/IPs tracked in memory per windowed detection (least recently seen dropped). */
  maxTrackedKeys: number;
  bruteForce: { failures: number; windowMs: number };
  spray: { users: number; windowMs: number; minFailureRatio: number };
  stuffing: { users: number; windowMs: number; minFailureRatio: number; minSuccesses: number; unknownUserShare: number };
  /** countryToleranceKm: taken off per side known only by its country (no city database). */
  travel: { maxKmh: number; minKm: number; countryToleranceKm: number };
  newDevice: { minHistory: number; remember: number };
  newCountry: { minHistory: number; remember: number };
  /** Per-user profiles (known devices/countries, last login) are dropped after this long unused. */
  profileTtlMs: number;
}

export class DetectionConfigError extends Error {}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new DetectionConfigError(`${name}=${raw}: expected a number between ${min} and ${max}`);
  }
  return n;
}

function kindsFrom(raw: string | undefined): Set<DetectionKind> {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'all') return new Set(DETECTION_KINDS);
  if (['off', 'none', '0'].includes(raw.trim())) return new Set();
  const kinds = new Set<DetectionKind>();
  for (const k of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(DETECTION_KINDS as readonly string[]).includes(k)) {
      throw new DetectionConfigError(`AUTHWATCH_DETECT=${raw}: unknown kind "${k}" (known: ${DETECTION_KINDS.join(', ')})`);
    }
    kinds.add(k as DetectionKind);
  }
  return kinds;
}

/** Reads and checks AUTHWATCH_DETECT and AUTHWATCH_DETECT_*. */
export function parseDetectionConfig(env: NodeJS.ProcessEnv): DetectionConfig {
  const s = (name: string, fallback: number) => number(env, name, fallback, 1) * 1000;
  return {
    kinds: kindsFrom(env.AUTHWATCH_DETECT),
    cooldownMs: number(env, 'AUTHWATCH_DETECT_COOLDOWN_SECONDS', 600, 0) * 1000,
    maxTrackedKeys: number(env, 'AUTHWATCH_DETECT_MAX_TRACKED', 100_000, 100),
    bruteForce: {
      failures: number(env, 'AUTHWATCH_DETECT_BRUTE_FORCE_FAILURES', 8, 2),
      windowMs: s('AUTHWATCH_DETECT_BRUTE_FORCE_WINDOW_SECONDS', 120),
    },
    spray: {
      users: number(env, 'AUTHWATCH_DETECT_SPRAY_USERS', 11, 2),
      windowMs: s('AUTHWATCH_DETECT_SPRAY_WINDOW_SECONDS', 1800),
      minFailureRatio: number(env, 'AUTHWATCH_DETECT_SPRAY_MIN_FAILURE_RATIO', 0.5, 0, 1),
    },
    stuffing: {
      users: number(env, 'AUTHWATCH_DETECT_STUFFING_USERS', 20, 2),
      windowMs: s('AUTHWATCH_DETECT_STUFFING_WINDOW_SECONDS', 600),
      minFailureRatio: number(env, 'AUTHWATCH_DETECT_STUFFING_MIN_FAILURE_RATIO', 0.8, 0, 1),
      minSuccesses: number(env, 'AUTHWATCH_DETECT_STUFFING_MIN_SUCCESSES', 1, 0),
      unknownUserShare: number(env, 'AUTHWATCH_DETECT_STUFFING_UNKNOWN_USER_SHARE', 0.5, 0, 1),
    },
    travel: {
      maxKmh: number(env, 'AUTHWATCH_DETECT_TRAVEL_MAX_KMH', 1000, 1),
      minKm: number(env, 'AUTHWATCH_DETECT_TRAVEL_MIN_KM', 500, 0),
      countryToleranceKm: number(env, 'AUTHWATCH_DETECT_TRAVEL_COUNTRY_TOLERANCE_KM', 2000, 0, 20_000),
    },
    newDevice: {
      minHistory: number(env, 'AUTHWATCH_DETECT_NEW_DEVICE_MIN_HISTORY', 3, 0),
      remember: number(env, 'AUTHWATCH_DETECT_NEW_DEVICE_REMEMBER', 20, 1, 1000),
    },
    newCountry: {
      minHistory: number(env, 'AUTHWATCH_DETECT_NEW_COUNTRY_MIN_HISTORY', 3, 0),
      remember: number(env, 'AUTHWATCH_DETECT_NEW_COUNTRY_REMEMBER', 10, 1, 300),
    },
    profileTtlMs: number(env, 'AUTHWATCH_DETECT_PROFILE_TTL_DAYS', 365, 1) * 86_400_000,
  };
}
