// Realistic traffic for the demo app, driven over HTTP so the client library is exercised end to
// end: people logging in from their home countries on their usual phones and computers, typos,
// page views, logouts, sessions left to go idle — and the attacks Authwatch must show: a brute-force
// burst against one account (→ lockout, HTTP 429), a password spray from one address, an
// impossible-travel login and a login from a new device.

import { setMaxListeners } from 'node:events';
import { SimulatedBrowser } from './browser';
import { ATTACK_BLOCKS, HOME_BLOCKS, TRAVEL_BLOCK, randomAddress } from './ip-ranges';
import { USER_AGENTS, type UserAgentName } from './user-agents';
import type { DemoUser } from './users';

export interface TrafficOptions {
  /** Base URL of the demo app. */
  baseUrl: string;
  users: DemoUser[];
  log?: (line: string) => void;
  /** Seconds between steady-state actions are multiplied by this (tests use < 1). Default 1. */
  pace?: number;
  /** Repeat an attack every this many ms in the steady phase. Default 4 minutes. */
  attackEveryMs?: number;
}

export interface TrafficHandle {
  stop(): Promise<void>;
  /** Counts of what the generator did, by kind. */
  counts: Record<string, number>;
}

const COMMON_PASSWORDS = ['123456', 'password', 'qwerty123', 'letmein', 'Password1', 'iloveyou', 'admin123', 'welcome1', 'monkey', 'dragon', 'football', 'sunshine'];
const SPRAY_PASSWORD = 'Winter2026!';
const SPRAY_EXTRA_USERS = ['admin', 'root', 'test', 'support', 'info'];

class Person {
  readonly homeIp: string;
  readonly mobileIp: string;
  readonly browsers: SimulatedBrowser[];

  constructor(
    readonly user: DemoUser,
    baseUrl: string,
  ) {
    const blocks = HOME_BLOCKS[user.home];
    this.homeIp = randomAddress(blocks[0].cidr);
    this.mobileIp = randomAddress(blocks[blocks.length - 1].cidr);
    this.browsers = user.devices.map((d) => {
      const mobile = d === 'iphone_safari' || d === 'android_chrome';
      return new SimulatedBrowser(baseUrl, USER_AGENTS[d], mobile ? this.mobileIp : this.homeIp);
    });
  }

  pickBrowser(): SimulatedBrowser {
    return this.browsers[Math.floor(Math.random() * this.browsers.length)];
  }
}

function typo(password: string): string {
  const i = Math.floor(Math.random() * password.length);
  return password.slice(0, i) + password.slice(i + 1);
}

export function startTraffic(options: TrafficOptions): TrafficHandle {
  const log = options.log ?? (() => undefined);
  const pace = options.pace ?? 1;
  const attackEveryMs = options.attackEveryMs ?? 240_000;
  const stopper = new AbortController();
  // Every pending sleep listens for the stop; the opening phase has a dozen at once.
  setMaxListeners(1000, stopper.signal);
  const counts: Record<string, number> = {};
  const count = (k: string): void => {
    counts[k] = (counts[k] ?? 0) + 1;
  };
  const people = options.users.map((u) => new Person(u, options.baseUrl));
  const byName = new Map(people.map((p) => [p.user.name, p]));

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopper.signal.aborted) return resolve();
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        stopper.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      stopper.signal.addEventListener('abort', onAbort, { once: true });
    });
  const running = (): boolean => !stopper.signal.aborted;

  const login = async (p: Person, b: SimulatedBrowser, password = p.user.password): Promise<number> => {
    const r = await b.request('POST', '/login', { username: p.user.name, password });
    count(r.status === 200 ? 'login_success' : r.status === 429 ? 'login_locked' : 'login_failure');
    return r.status;
  };

  /** A person logs in (typing it wrong first now and then) and looks at their account. */
  const visit = async (p: Person, b: SimulatedBrowser, opts: { typoChance?: number; views?: number } = {}): Promise<void> => {
    if (Math.random() < (opts.typoChance ?? 0.15)) {
      await login(p, b, typo(p.user.password));
      await sleep(1500 + Math.random() * 2500);
    }
    if ((await login(p, b)) !== 200) return;
    const views = opts.views ?? 1 + Math.floor(Math.random() * 3);
    for (let i = 0; i < views && running(); i++) {
      await sleep((1000 + Math.random() * 3000) * pace);
      const r = await b.request('GET', '/account');
      count(r.status === 200 ? 'page_view' : 'page_refused');
      if (r.status !== 200) return;
    }
  };

  const bruteForce = async (target: string): Promise<void> => {
    const attacker = new SimulatedBrowser(options.baseUrl, USER_AGENTS.python_requests, randomAddress(ATTACK_BLOCKS[0].cidr));
    log(`traffic: brute force against ${target} from ${attacker.ip}`);
    let refused = 0;
    // A script does not stop at HTTP 429: it runs its whole list, and every refused attempt is a
    // failure the collector sees too (brute_force needs 8 within 120 s, the lock comes at 6).
    for (let i = 0; i < COMMON_PASSWORDS.length && running(); i++) {
      const r = await attacker.request('POST', '/login', { username: target, password: COMMON_PASSWORDS[i] });
      count(r.status === 429 ? 'attack_locked_out' : 'attack_attempt');
      if (r.status === 429) {
        if (refused === 0) log(`traffic: ${target} locked after ${i} failed attempts (HTTP 429, Retry-After ${r.retryAfter ?? 'none'})`);
        refused += 1;
      }
      // Lets the reported failure reach the collector before the next check, as a real script's
      // round trips would.
      await sleep(450);
    }
  };

  const passwordSpray = async (): Promise<void> => {
    const attacker = new SimulatedBrowser(options.baseUrl, USER_AGENTS.curl, randomAddress(ATTACK_BLOCKS[1].cidr));
    const targets = [...people.map((p) => p.user.name), ...SPRAY_EXTRA_USERS];
    log(`traffic: password spray over ${targets.length} accounts from ${attacker.ip}`);
    for (const t of targets) {
      if (!running()) return;
      const r = await attacker.request('POST', '/login', { username: t, password: SPRAY_PASSWORD });
      count(r.status === 429 ? 'attack_locked_out' : 'attack_attempt');
      await sleep(600);
    }
  };

  /** A few ordinary logins (each ended by a logout) that make up the person's usual pattern. */
  const settle = async (p: Person, times: number): Promise<void> => {
    for (let i = 0; i < times && running(); i++) {
      const b = p.browsers[0];
      await visit(p, b, { typoChance: 0, views: 1 });
      await sleep(800);
      await b.request('POST', '/logout');
      count('logout');
      await sleep(800);
    }
  };

  const impossibleTravel = async (p: Person): Promise<void> => {
    await settle(p, 3);
    const phone = new SimulatedBrowser(options.baseUrl, USER_AGENTS.iphone_safari, randomAddress(TRAVEL_BLOCK.cidr));
    log(`traffic: ${p.user.name} logs in from ${TRAVEL_BLOCK.country} (${phone.ip}) minutes after ${p.user.home}`);
    await visit(p, phone, { typoChance: 0, views: 1 });
  };

  const newDevice = async (p: Person): Promise<void> => {
    const ua: UserAgentName = 'ipad_safari';
    const tablet = new SimulatedBrowser(options.baseUrl, USER_AGENTS[ua], p.homeIp);
    await settle(p, 3);
    log(`traffic: ${p.user.name} logs in on a new device (${ua})`);
    await visit(p, tablet, { typoChance: 0, views: 2 });
  };

  const guard = (what: string, work: () => Promise<void>) => async (): Promise<void> => {
    try {
      await work();
    } catch (err) {
      if (running()) log(`traffic: ${what} failed: ${(err as Error).message}`);
    }
  };

  /** The first minute: everything a dashboard should show. */
  const opening = async (): Promise<void> => {
    const at = (ms: number, what: string, work: () => Promise<void>): Promise<void> =>
      sleep(ms).then(() => (running() ? guard(what, work)() : undefined));
    const pick = (name: string, fallbackIndex: number): Person => byName.get(name) ?? people[fallbackIndex % people.length];
    await Promise.all([
      ...people.map((p, i) =>
        at(i * 1200, `login ${p.user.name}`, () => visit(p, p.pickBrowser(), { typoChance: p.user.name === 'carol' ? 1 : 0.15 })),
      ),
      at(4000, 'brute force', () => bruteForce(pick('bob', 1).user.name)),
      at(14_000, 'password spray', passwordSpray),
      at(10_000, 'impossible travel', () => impossibleTravel(pick('alice', 0))),
      at(12_000, 'new device', () => newDevice(pick('dave', 3))),
    ]);
  };

  /** Afterwards: a calm stream of people coming and going, and an attack now and then. */
  const steady = async (): Promise<void> => {
    let nextAttack = Date.now() + attackEveryMs;
    let attackNo = 0;
    while (running()) {
      await sleep((2000 + Math.random() * 4000) * pace);
      if (!running()) return;
      if (Date.now() >= nextAttack) {
        nextAttack = Date.now() + attackEveryMs;
        attackNo += 1;
        const victim = people[Math.floor(Math.random() * people.length)].user.name;
        void guard('attack', () => (attackNo % 2 ? bruteForce(victim) : passwordSpray()))();
        continue;
      }
      const p = people[Math.floor(Math.random() * people.length)];
      const b = p.pickBrowser();
      const roll = Math.random();
      await guard(`activity of ${p.user.name}`, async () => {
        if (roll < 0.5) await visit(p, b);
        else if (roll < 0.8) {
          const path = Math.random() < 0.3 ? '/reports/monthly-statement.csv' : '/account';
          const r = await b.request('GET', path);
          count(r.status === 200 ? 'page_view' : 'page_refused');
          if (r.status === 401) await visit(p, b);
        } else if (roll < 0.92) {
          await b.request('POST', '/logout');
          count('logout');
        }
        // else: this person walks away and the session goes idle.
      })();
    }
  };

  const done = (async () => {
    await opening();
    await steady();
  })();

  return {
    counts,
    async stop() {
      stopper.abort();
      await done.catch(() => undefined);
    },
  };
}
