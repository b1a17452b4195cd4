// Realistic authentication events for load: a fixed pool of users, public IPs from several
// countries, common browsers. Deterministic (seeded) so runs are comparable.

export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'PaymentPortal/5.2.1 (Android 13; SM-S911B)',
];
// Public addresses in well-known networks (US, DE, GB, JP, BR, AU, IN, FR) so geo/ASN lookups hit.
export const IP_PREFIXES = ['8.8.', '81.2.', '2.125.', '126.0.', '177.37.', '1.128.', '49.36.', '90.84.'];
export const SERVICES = ['payment-portal', 'admin-console', 'mobile-api', 'sshd'];
export const FAIL_REASONS = ['invalid_password', 'unknown_user', 'mfa_failed', 'account_disabled'];

/** Small seeded PRNG (mulberry32). */
export function rng(seed = 1) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function userName(i) {
  return `user${String(i).padStart(5, '0')}`;
}

export function ipFor(rand) {
  const p = IP_PREFIXES[Math.floor(rand() * IP_PREFIXES.length)];
  return `${p}${Math.floor(rand() * 250) + 1}.${Math.floor(rand() * 250) + 1}`;
}

/**
 * One wire-format event (PRODUCT.md "Event (request body)"). `id` may be a template such as
 * "[<id>]-3" that the load client replaces per request.
 */
export function makeEvent(rand, { id, time, users = 5000 } = {}) {
  const u = Math.floor(rand() * users);
  const r = rand();
  const service = SERVICES[u % SERVICES.length];
  const base = {
    ...(id !== undefined ? { id } : {}),
    ...(time !== undefined ? { time } : {}),
    user: userName(u),
    user_id: `u-${u}`,
    email: `${userName(u)}@example.com`,
    ip: ipFor(rand),
    user_agent: USER_AGENTS[u % USER_AGENTS.length],
    service,
    app_version: '5.2.1',
  };
  if (r < 0.55) return { ...base, type: 'login', outcome: 'success', session_id: `s-${u}-${Math.floor(rand() * 1e9)}` };
  if (r < 0.8) return { ...base, type: 'login', outcome: 'failure', reason: FAIL_REASONS[Math.floor(rand() * FAIL_REASONS.length)] };
  if (r < 0.95) return { ...base, type: 'access', outcome: 'success', entry: 'report_download' };
  return { ...base, type: 'logout', outcome: 'success' };
}

/** A JSON array of n events whose ids are "<template>-k" (unique per request once replaced). */
export function batchBody(n, seed, idTemplate = '[<id>]') {
  const rand = rng(seed);
  const events = [];
  for (let k = 0; k < n; k++) events.push(makeEvent(rand, { id: `${idTemplate}-${k}` }));
  return JSON.stringify(events);
}
