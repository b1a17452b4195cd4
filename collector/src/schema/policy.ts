// Lockout + session policy: defaults, validation of PUT /v1/policy against the wire contract's
// schema (@authwatch/wire), and the cross-field checks a schema cannot say.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { PolicySchema, type Policy } from '@authwatch/wire';

export { PolicySchema };

export const DEFAULT_POLICY: Policy = {
  max_failed_attempts: 5,
  window_seconds: 600,
  lock_seconds: 900,
  escalation: 'none',
  max_lock_seconds: 86400,
  permanent_after: null,
  scope: 'user',
  ip_max_failed_attempts: 20,
  idle_timeout_seconds: 1800,
  single_session: false,
  session_ip_binding: false,
  user_case_sensitive: false,
  ipv6_prefix: 64,
  attempt_ttl_seconds: 60,
};

/** The stored policy (JSON in meta), merged over the defaults so fields added later get theirs. */
export function storedPolicy(json: string | null | undefined): Policy {
  return json ? { ...DEFAULT_POLICY, ...(JSON.parse(json) as Partial<Policy>) } : { ...DEFAULT_POLICY };
}

const check = TypeCompiler.Compile(PolicySchema);

export interface FieldError {
  path: string;
  message: string;
}

/**
 * Validates a PUT /v1/policy body. Partial bodies are merged over the current policy, so a client
 * may send only the fields it changes.
 */
export function validatePolicy(body: unknown, current: Policy): { policy: Policy } | { errors: FieldError[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { errors: [{ path: '', message: 'policy must be a JSON object' }] };
  }
  const merged = { ...current, ...(body as Record<string, unknown>) };
  const errors: FieldError[] = [];
  for (const e of check.Errors(merged)) {
    errors.push({ path: e.path.replace(/^\//, '').replace(/\//g, '.'), message: e.message });
  }
  if (errors.length === 0 && merged.max_lock_seconds < merged.lock_seconds) {
    errors.push({ path: 'max_lock_seconds', message: 'must be at least lock_seconds' });
  }
  return errors.length ? { errors } : { policy: merged as Policy };
}
