// Realistic login activity for the browser tests and README screenshots: people signing in from
// different countries, browsers and devices; sessions ended in different ways; a brute-force
// attempt, a locked account and a password-spraying address.

/** The user locked twice: with the policy below his second lock lasts until an admin unlocks it. */
export const REPEAT_OFFENDER = 'tom.becker';

/** Policy the realistic data is made for (a second lock of the same key is permanent). */
export const seedPolicy = { permanent_after: 1 };

interface CollectorLike {
  request(method: string, path: string, key: 'ingest' | 'read' | 'admin', body?: unknown): Promise<{ status: number; body: unknown }>;
}

/** Sets the policy and ingests the realistic events; throws with the collector's answer if refused. */
export async function seedCollector(collector: CollectorLike, now = Date.now()): Promise<SeedEvent[]> {
  const current = (await collector.request('GET', '/v1/policy', 'read')).body as Record<string, unknown>;
  const policy = await collector.request('PUT', '/v1/policy', 'admin', { ...current, ...seedPolicy });
  if (policy.status !== 200) {
    throw new Error(`PUT /v1/policy answered ${policy.status}: ${JSON.stringify(policy.body)}`);
  }
  const events = realisticEvents(now);
  // Locks run on the collector's clock (not the events' times) and failures during a lock do not
  // count: the repeat offender's second burst must arrive after his first lock was lifted.
  const second = new Set(events.filter((e) => e.user === REPEAT_OFFENDER && e.time > now - 5 * minute).map((e) => e.id));
  const ingest = async (batch: SeedEvent[]) => {
    const answer = await collector.request('POST', '/v1/events', 'ingest', batch);
    if (answer.status !== 202) {
      throw new Error(`POST /v1/events answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
  };
  await ingest(events.filter((e) => !second.has(e.id)));
  const unlock = await collector.request('POST', `/v1/users/${REPEAT_OFFENDER}/unlock`, 'admin', {});
  if (unlock.status !== 200) {
    throw new Error(`unlocking ${REPEAT_OFFENDER} answered ${unlock.status}: ${JSON.stringify(unlock.body)}`);
  }
  await ingest(events.filter((e) => second.has(e.id)));
  return events;
}

export interface SeedEvent {
  id: string;
  time: number;
  type: string;
  outcome?: 'success' | 'failure';
  reason?: string;
  user: string;
  session_id?: string;
  ip?: string;
  user_agent?: string;
  service?: string;
}

export const userAgents = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  edgeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  chromePixel: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  samsungGalaxy:
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
  safariIpad: 'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  curl: 'curl/8.5.0',
};

/** Public addresses from well-known national networks, plus private ones. */
export const ips = {
  london: '81.2.69.142',
  berlin: '84.133.5.10',
  paris: '90.63.10.20',
  tokyo: '126.72.10.20',
  saoPaulo: '177.92.10.20',
  mumbai: '49.36.128.20',
  sydney: '1.120.10.20',
  amsterdam: '145.94.10.20',
  montreal: '24.48.10.20',
  madrid: '83.33.10.20',
  milan: '79.20.10.20',
  seattle: '73.162.10.20',
  office: '10.20.4.15',
  vpn: '192.168.10.44',
  attacker: '45.155.205.233',
  sprayer: '185.220.101.45',
};

interface Person {
  user: string;
  ip: string;
  ua: string;
  service: string;
}

const people: Person[] = [
  { user: 'alice.martin', ip: ips.london, ua: userAgents.chromeWindows, service: 'payments-portal' },
  { user: 'bob.nguyen', ip: ips.seattle, ua: userAgents.safariMac, service: 'admin-console' },
  { user: 'chen.wei', ip: ips.tokyo, ua: userAgents.safariIphone, service: 'payments-portal' },
  { user: 'dmitri.ivanov', ip: ips.berlin, ua: userAgents.firefoxLinux, service: 'api-gateway' },
  { user: 'emma.schulz', ip: ips.berlin, ua: userAgents.edgeWindows, service: 'hr-portal' },
  { user: 'fatima.khan', ip: ips.mumbai, ua: userAgents.chromePixel, service: 'payments-portal' },
  { user: 'gabriel.santos', ip: ips.saoPaulo, ua: userAgents.samsungGalaxy, service: 'payments-portal' },
  { user: 'hana.suzuki', ip: ips.tokyo, ua: userAgents.safariIpad, service: 'hr-portal' },
  { user: 'julia.rossi', ip: ips.milan, ua: userAgents.firefoxWindows, service: 'admin-console' },
  { user: 'kwame.mensah', ip: ips.amsterdam, ua: userAgents.chromeWindows, service: 'api-gateway' },
  { user: 'lena.andersson', ip: ips.office, ua: userAgents.safariMac, service: 'admin-console' },
  { user: 'mateo.garcia', ip: ips.madrid, ua: userAgents.chromePixel, service: 'payments-portal' },
  { user: 'priya.sharma', ip: ips.sydney, ua: userAgents.edgeWindows, service: 'payments-portal' },
  { user: 'olivier.dubois', ip: ips.paris, ua: userAgents.safariIphone, service: 'hr-portal' },
  { user: 'sam.taylor', ip: ips.montreal, ua: userAgents.firefoxLinux, service: 'api-gateway' },
  { user: 'deploy-bot', ip: ips.vpn, ua: userAgents.curl, service: 'api-gateway' },
];

const minute = 60_000;

/** Sessions (some still active, some ended by logout or idle timeout) and three kinds of lock. */
export function realisticEvents(now = Date.now()): SeedEvent[] {
  const events: SeedEvent[] = [];
  let n = 0;
  const add = (e: Omit<SeedEvent, 'id'>) => events.push({ id: `seed-${++n}`, ...e });

  const accessReasons = ['report_download', 'api_request', 'batch_upload'];
  people.forEach((p, i) => {
    const start = now - (170 - i * 9) * minute;
    const session = `sess-${p.user}-1`;
    const base = { user: p.user, session_id: session, ip: p.ip, user_agent: p.ua, service: p.service };
    add({ ...base, time: start, type: 'login', outcome: 'success' });
    if (i % 5 === 1) {
      add({ ...base, time: start + 4 * minute, type: 'access', outcome: 'success', reason: 'report_download' });
      add({ ...base, time: start + 25 * minute, type: 'logout', outcome: 'success' });
    } else if (i % 5 === 3) {
      add({ ...base, time: start + 4 * minute, type: 'access', outcome: 'success', reason: 'api_request' });
      add({ ...base, time: start + 34 * minute, type: 'session_end', reason: 'idle_timeout' });
    } else {
      // Still working: activity well inside the idle timeout, the last one a few minutes ago.
      let k = 0;
      for (let t = start + 12 * minute; t < now - 3 * minute; t += 20 * minute) {
        add({ ...base, time: t, type: 'access', outcome: 'success', reason: accessReasons[k++ % accessReasons.length] });
      }
      add({ ...base, time: now - (i + 1) * 40_000, type: 'access', outcome: 'success', reason: 'api_request' });
    }
  });
  // A second, mobile session for two people.
  add({ time: now - 14 * minute, type: 'login', outcome: 'success', user: 'alice.martin', session_id: 'sess-alice.martin-2', ip: ips.paris, user_agent: userAgents.safariIphone, service: 'payments-portal' });
  add({ time: now - 3 * minute, type: 'access', outcome: 'success', reason: 'report_download', user: 'alice.martin', session_id: 'sess-alice.martin-2', ip: ips.paris, user_agent: userAgents.safariIphone, service: 'payments-portal' });
  add({ time: now - 22 * minute, type: 'login', outcome: 'success', user: 'bob.nguyen', session_id: 'sess-bob.nguyen-2', ip: ips.seattle, user_agent: userAgents.safariIphone, service: 'payments-portal' });

  // Brute force against one account from one address: the 6th failure locks the account.
  for (let k = 0; k < 7; k++) {
    add({ time: now - (6 - k * 0.5) * minute, type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'ivan.petrov', ip: ips.attacker, user_agent: userAgents.curl, service: 'payments-portal' });
  }
  // Someone who forgot their password.
  for (let k = 0; k < 6; k++) {
    add({ time: now - (4 - k * 0.4) * minute, type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'julia.rossi', ip: ips.milan, user_agent: userAgents.firefoxWindows, service: 'admin-console' });
  }
  // A repeat offender: locked, unlocked by an admin (seedCollector), locked again; with the
  // policy's permanent_after: 1 the second lock lasts until an admin unlocks it. Both bursts are
  // inside the collector's failure window (failures are counted on the collector's clock).
  for (const at of [9, 3]) {
    for (let k = 0; k < 6; k++) {
      add({ time: now - at * minute + k * 15_000, type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'tom.becker', ip: ips.berlin, user_agent: userAgents.chromeWindows, service: 'hr-portal' });
    }
  }
  // Password spraying: one address, many accounts, one try each.
  const sprayed = ['admin', 'root', 'test', 'support', 'info', 'sales', 'backup', 'oracle', 'postgres', 'guest', 'user', 'demo', 'ftp', 'www', 'git', 'jenkins', 'ubuntu', 'pi', 'operator', 'webmaster', 'mysql', 'nagios', 'deploy', 'ansible'];
  sprayed.forEach((user, k) => {
    add({ time: now - 8 * minute + k * 10_000, type: 'login', outcome: 'failure', reason: 'unknown_user', user, ip: ips.sprayer, user_agent: userAgents.curl, service: 'sshd' });
  });
  return events;
}

const bulkIps = [ips.london, ips.berlin, ips.paris, ips.tokyo, ips.saoPaulo, ips.mumbai, ips.sydney, ips.amsterdam, ips.montreal, ips.madrid, ips.milan, ips.seattle, ips.office];
const bulkAgents = Object.values(userAgents).filter((ua) => ua !== userAgents.curl);
const bulkServices = ['payments-portal', 'admin-console', 'api-gateway', 'hr-portal'];

/** `count` sessions of `count` distinct users (login events), newest last. */
export function bulkSessions(count: number, now = Date.now()): SeedEvent[] {
  const events: SeedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const user = `user-${String(i).padStart(5, '0')}`;
    events.push({
      id: `bulk-${i}`,
      time: now - (count - i) * 500,
      type: 'login',
      outcome: 'success',
      user,
      session_id: `bulk-session-${i}`,
      ip: bulkIps[i % bulkIps.length],
      user_agent: bulkAgents[i % bulkAgents.length],
      service: bulkServices[i % bulkServices.length],
    });
  }
  return events;
}
