// Keeps Prometheus label values low-cardinality. Counters are cumulative, so every distinct label
// value is a series that lives until restart: values that do not look like a code, and any value
// beyond the first `max` distinct ones, are reported as "other".

export const OTHER = 'other';
export const NONE = 'none';

/** snake_case codes (reasons, detection kinds, lockout scopes), as the wire contract defines them. */
export const SNAKE_CASE = /^[a-z0-9][a-z0-9_]{0,63}$/;
/** Service names are often kebab-case or dotted (payment-portal, api.v2). */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class LabelLimiter {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly pattern: RegExp,
  ) {}

  /** The label value to use for `raw`: itself, "none" when missing, or "other". */
  value(raw: string | null | undefined): string {
    if (raw === null || raw === undefined || raw === '') return NONE;
    if (this.seen.has(raw)) return raw;
    if (!this.pattern.test(raw) || this.seen.size >= this.max) return OTHER;
    this.seen.add(raw);
    return raw;
  }

  /** Pre-registers values that must always be allowed (and counted toward the cap). */
  allow(values: readonly string[]): this {
    for (const v of values) this.value(v);
    return this;
  }
}
