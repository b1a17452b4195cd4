// Keeps Prometheus label values from bounded vocabularies. /metrics needs no key and counters are
// cumulative, so a label value is public and lives until restart: clients must not be able to put
// arbitrary text there (an IP, an e-mail, "alice_smith_ssn_123") nor grow the series without bound.
// Anything outside the vocabulary is reported as "other".
import { isIP } from 'node:net';
import { REASON_CODES } from '../schema/reasons';

export const OTHER = 'other';
export const NONE = 'none';

/** Fixed vocabulary: the value itself when listed, "none" when missing, "other" otherwise. */
export class Vocabulary {
  private readonly known: ReadonlySet<string>;

  constructor(values: Iterable<string>) {
    this.known = new Set(values);
  }

  value(raw: string | null | undefined): string {
    if (raw === null || raw === undefined || raw === '') return NONE;
    return this.known.has(raw) ? raw : OTHER;
  }
}

/** `reason` label values: the codes of the reason registry (schema/reasons.ts). */
export const REASON_LABELS = new Vocabulary(REASON_CODES.map((r) => r.code));

/** Service names used as label values without configuration: short lower-case identifiers. */
export const SAFE_SERVICE = /^[a-z][a-z0-9_-]{0,31}$/;
/** Distinct service label values (besides "none" / "other") when no list is configured. */
export const SERVICE_CAP = 50;

/** A value that matches SAFE_SERVICE but still looks like personal data or an id. */
function looksIdentifying(v: string): boolean {
  return isIP(v) !== 0 || /\d{5,}/.test(v) || /[0-9a-f]{12,}/.test(v);
}

/**
 * `service` label values: with a configured list (AUTHWATCH_METRIC_SERVICES) exactly those;
 * without one, names matching SAFE_SERVICE (and no long digit or hex run), the first SERVICE_CAP
 * distinct ones. Everything else is "other".
 */
export class ServiceLabels {
  private readonly configured: ReadonlySet<string> | null;
  private readonly seen = new Set<string>();

  constructor(configured: readonly string[] | null, private readonly cap = SERVICE_CAP) {
    this.configured = configured ? new Set(configured) : null;
  }

  value(raw: string | null | undefined): string {
    if (raw === null || raw === undefined || raw === '') return NONE;
    if (this.configured) return this.configured.has(raw) ? raw : OTHER;
    if (this.seen.has(raw)) return raw;
    if (!SAFE_SERVICE.test(raw) || looksIdentifying(raw) || this.seen.size >= this.cap) return OTHER;
    this.seen.add(raw);
    return raw;
  }
}

/** Entries of the configured list: printable ASCII without quotes or backslashes, ≤ 64 chars. */
const LISTED_SERVICE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/**
 * AUTHWATCH_METRIC_SERVICES: comma-separated service names reported as themselves; null when unset
 * or empty. Throws on an entry that is not a plain printable name (so a typo fails at start).
 */
export function metricServices(env: NodeJS.ProcessEnv): string[] | null {
  const text = env.AUTHWATCH_METRIC_SERVICES;
  if (text === undefined || text.trim() === '') return null;
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.find((n) => !LISTED_SERVICE.test(n) || n === OTHER || n === NONE);
  if (bad !== undefined) {
    throw new Error(
      `AUTHWATCH_METRIC_SERVICES: ${JSON.stringify(bad.slice(0, 80))} is not a usable service name (1-64 printable ASCII characters, no quotes, backslashes or spaces; not "other" or "none")`,
    );
  }
  return names.length ? [...new Set(names)] : null;
}
