// Detections driven through the real SQLite store (the core's SqliteStore, a temp file): each
// fires on its scenario, stays quiet where it should, and 10k events of generated normal traffic
// produce no attack detections and only the new devices/countries that really are new.
import type { StoredEvent } from '../../schema/stored-event';
import { CITIES, DEVICES, loginEvent, normalTraffic } from '../../../test/fixtures/detect-traffic';
import { useDetectionStore } from '../../../test/helpers/detection-store';
import { createDetections } from '.';
import { parseDetectionConfig } from './config';

/** Detections as the collector builds them from these variables. */
const detect = (env: NodeJS.ProcessEnv) => createDetections(parseDetectionConfig(env));
import { DetectionConfigError } from './config';
import { PROFILE_NAMESPACE } from './user-profile';
import { SNAPSHOT_EVERY } from './shared-windows';
import { markShared, windowLogOf } from '../../store/shared-state';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const [PARIS, LYON, , , LONDON, , NEW_YORK, , , , TOKYO, , SYDNEY] = CITIES;
const CHROME_WIN = DEVICES[0];
const FIREFOX_LINUX = DEVICES[2];

const db = useDetectionStore('detect');
const run = db.run.bind(db);

const kinds = (ds: StoredEvent[]) => ds.map((d) => d.reason);
const fail = (user: string, ip: string, time: number, reason = 'invalid_password') =>
  loginEvent({ time, user, outcome: 'failure', ip, reason, city: PARIS, device: CHROME_WIN });
const ok = (user: string, ip: string, time: number, city = PARIS, device = CHROME_WIN) =>
  loginEvent({ time, user, outcome: 'success', ip, city, device, email: `${user}@example.com` });

describe('brute_force', () => {
  test('8 failures against one account within 120 s fire once, with the evidence', async () => {
    const events = Array.from({ length: 8 }, (_, i) => fail('victim', i % 2 ? '203.0.113.5' : '203.0.113.6', T0 + i * 10_000));
    const ds = await run(detect({}), events);
    expect(kinds(ds)).toEqual(['brute_force']);
    expect(ds[0]).toMatchObject({
      type: 'detection',
      reason: 'brute_force',
      outcome: null,
      user: 'victim',
      ip: '203.0.113.5',
      attributes: { failures: 8, window_seconds: 120, distinct_ips: 2, trigger_event_id: events[7].id },
    });
  });

  test('7 failures, or 8 spread over more than 120 s, stay quiet', async () => {
    const seven = Array.from({ length: 7 }, (_, i) => fail('v1', '203.0.113.5', T0 + i * 1000));
    const slow = Array.from({ length: 8 }, (_, i) => fail('v2', '203.0.113.5', T0 + i * 20_000));
    expect(await run(detect({ AUTHWATCH_DETECT: 'brute_force' }), [...seven, ...slow])).toEqual([]);
  });

  test('a sustained attack fires once per cooldown, not on every failure', async () => {
    const events = Array.from({ length: 200 }, (_, i) => fail('victim', '203.0.113.5', T0 + i * 5000)); // 1000 s
    const ds = await run(detect({ AUTHWATCH_DETECT: 'brute_force', AUTHWATCH_DETECT_COOLDOWN_SECONDS: '600' }), events, 37);
    expect(ds.map((d) => d.time - T0)).toEqual([35_000, 635_000]);
  });

  test('thresholds come from the environment', async () => {
    const events = Array.from({ length: 3 }, (_, i) => fail('v', '203.0.113.5', T0 + i * 1000));
    const env = { AUTHWATCH_DETECT_BRUTE_FORCE_FAILURES: '3', AUTHWATCH_DETECT_BRUTE_FORCE_WINDOW_SECONDS: '10' };
    expect(kinds(await run(detect(env), events))).toEqual(['brute_force']);
    expect(() => detect({ AUTHWATCH_DETECT_BRUTE_FORCE_FAILURES: 'lots' })).toThrow(DetectionConfigError);
    expect(() => detect({ AUTHWATCH_DETECT: 'brute_force,telepathy' })).toThrow(/unknown kind "telepathy"/);
    expect(detect({ AUTHWATCH_DETECT: 'off' })).toEqual([]);
  });
});

describe('password_spray', () => {
  test('one IP failing against 11 accounts in 30 min fires; the evidence names them', async () => {
    const events = Array.from({ length: 11 }, (_, i) => fail(`emp${i}`, '203.0.113.50', T0 + i * 100_000));
    const ds = await run(detect({ AUTHWATCH_DETECT: 'password_spray' }), events);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      reason: 'password_spray',
      user: 'emp10',
      email: null,
      ip: '203.0.113.50',
      attributes: { distinct_users: 11, failures: 11, failure_ratio: 1, window_seconds: 1800, sample_users: 'emp0,emp1,emp2,emp3,emp4' },
    });
  });

  test('10 accounts stay quiet, and so does an office NAT where a few of 300 people mistype', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => fail(`emp${i}`, '203.0.113.50', T0 + i * 1000));
    const office: StoredEvent[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 20 === 0) office.push(fail(`staff${i}`, '198.18.0.10', T0 + i * 5000));
      office.push(ok(`staff${i}`, '198.18.0.10', T0 + i * 5000 + 2000));
    }
    const ds = await run(detect({ AUTHWATCH_DETECT: 'password_spray' }), [...ten, ...office]);
    expect(ds).toEqual([]);
  });
});

describe('credential_stuffing', () => {
  test('a replayed list — 40 accounts, most unknown or wrong, two valid — fires', async () => {
    const events: StoredEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const t = T0 + i * 5000;
      if (i === 17 || i === 33) events.push(ok(`leaked${i}`, '192.0.2.66', t));
      else events.push(fail(`leaked${i}`, '192.0.2.66', t, i % 3 === 0 ? 'invalid_password' : 'invalid_user'));
    }
    const ds = await run(detect({ AUTHWATCH_DETECT: 'credential_stuffing' }), events);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      reason: 'credential_stuffing',
      ip: '192.0.2.66',
      attributes: { distinct_users: 20, attempts: 20, successes: 1, failures: 19, window_seconds: 600 },
    });
  });

  test('many accounts from one IP with mostly successes (a busy NAT) stay quiet; so do failures on real accounts only, with no success', async () => {
    const nat = Array.from({ length: 60 }, (_, i) => (i % 10 === 0 ? fail : ok)(`staff${i}`, '198.18.0.10', T0 + i * 3000));
    const realAccounts = Array.from({ length: 25 }, (_, i) => fail(`emp${i}`, '203.0.113.77', T0 + i * 3000));
    expect(await run(detect({ AUTHWATCH_DETECT: 'credential_stuffing' }), [...nat, ...realAccounts])).toEqual([]);
  });
});

describe('impossible_travel', () => {
  test('Paris then Sydney one hour later fires with distance and speed', async () => {
    const events = [ok('amy', '81.0.0.1', T0, PARIS), ok('amy', '1.2.3.4', T0 + 3600_000, SYDNEY)];
    const ds = await run(detect({ AUTHWATCH_DETECT: 'impossible_travel' }), events);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      reason: 'impossible_travel',
      user: 'amy',
      email: 'amy@example.com',
      country: 'AU',
      attributes: { previous_country: 'FR', previous_city: 'Paris', max_kmh: 1000 },
    });
    expect(ds[0].attributes!.distance_km).toBeGreaterThan(16_900);
    expect(ds[0].attributes!.distance_km).toBeLessThan(17_000);
    expect(ds[0].attributes!.speed_kmh).toBe(ds[0].attributes!.distance_km);
  });

  test('a real flight, a short hop, a login without coordinates and failed logins stay quiet', async () => {
    const noCoords = { ...ok('cat', '10.0.0.1', T0 + 3600_000), latitude: null, longitude: null, country: 'private', city: null };
    const events = [
      ok('bob', '81.0.0.2', T0, PARIS),
      ok('bob', '8.8.8.8', T0 + 9 * 3600_000, NEW_YORK), // 5,840 km in 9 h ≈ 650 km/h
      ok('dan', '81.0.0.3', T0, PARIS),
      ok('dan', '81.0.0.4', T0 + 600_000, LYON), // 390 km in 10 min: under the 500 km floor
      ok('cat', '81.0.0.5', T0, LONDON),
      noCoords,
      ok('eve', '81.0.0.6', T0, PARIS),
      loginEvent({ time: T0 + 60_000, user: 'eve', outcome: 'failure', ip: '1.2.3.4', city: TOKYO, device: CHROME_WIN }),
    ];
    expect(await run(detect({ AUTHWATCH_DETECT: 'impossible_travel' }), events)).toEqual([]);
  });

  test('the last location survives across batches and restarts (it is stored in the transaction state)', async () => {
    await run(detect({ AUTHWATCH_DETECT: 'impossible_travel' }), [ok('fay', '81.0.0.7', T0, LONDON)]);
    const state = await db.store.write((tx) => tx.getState<{ last_located: { country: string } }>(PROFILE_NAMESPACE, 'fay'));
    expect(state?.last_located.country).toBe('GB');
    // A fresh set of processors (as after a restart) still knows where fay was.
    const ds = await run(detect({ AUTHWATCH_DETECT: 'impossible_travel' }), [ok('fay', '1.2.3.4', T0 + 1800_000, TOKYO)]);
    expect(kinds(ds)).toEqual(['impossible_travel']);
  });
});

describe('new_device and new_country', () => {
  test('a new browser/OS after three logins fires once; the first logins do not', async () => {
    const events = [
      ok('gil', '81.0.0.8', T0, PARIS, CHROME_WIN),
      ok('gil', '81.0.0.8', T0 + 1000, PARIS, CHROME_WIN),
      ok('gil', '81.0.0.8', T0 + 2000, PARIS, CHROME_WIN),
      ok('gil', '81.0.0.8', T0 + 3000, PARIS, FIREFOX_LINUX),
      ok('gil', '81.0.0.8', T0 + 4000, PARIS, FIREFOX_LINUX),
      ok('hal', '81.0.0.9', T0, PARIS, CHROME_WIN),
      ok('hal', '81.0.0.9', T0 + 1000, PARIS, FIREFOX_LINUX),
    ];
    const ds = await run(detect({ AUTHWATCH_DETECT: 'new_device' }), events, 2);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      reason: 'new_device',
      user: 'gil',
      browser: 'Firefox',
      os: 'Linux',
      attributes: { fingerprint: 'Firefox|Linux|desktop', known_devices: 1, previous_device: 'Chrome|Windows|desktop' },
    });
  });

  test('a new country after three logins fires once; private addresses never count', async () => {
    const priv = { ...ok('ivy', '10.0.0.1', T0 + 2500), country: 'private', latitude: null, longitude: null };
    const events = [
      ok('ivy', '81.0.0.10', T0, PARIS),
      ok('ivy', '81.0.0.10', T0 + 1000, LYON),
      ok('ivy', '81.0.0.10', T0 + 2000, PARIS),
      priv,
      ok('ivy', '8.8.8.8', T0 + 86_400_000, NEW_YORK),
      ok('ivy', '8.8.8.8', T0 + 86_500_000, NEW_YORK),
    ];
    const ds = await run(detect({ AUTHWATCH_DETECT: 'new_country' }), events);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      reason: 'new_country',
      user: 'ivy',
      country: 'US',
      attributes: { country: 'US', previous_country: 'FR', known_countries: 'FR' },
    });
  });
});

describe('10k events of generated normal traffic', () => {
  test('no attack or travel detections; new device/country only where really new', async () => {
    const traffic = normalTraffic(10_000);
    const started = performance.now();
    const ds = await run(detect({}), traffic.events);
    const ms = performance.now() - started;
    const byKind = new Map<string, StoredEvent[]>();
    for (const d of ds) byKind.set(d.reason!, [...(byKind.get(d.reason!) ?? []), d]);
    const fp = (kind: string, expected: Set<string>) => (byKind.get(kind) ?? []).filter((d) => !expected.has(String(d.attributes!.trigger_event_id)));
    const falsePositives = {
      brute_force: byKind.get('brute_force') ?? [],
      password_spray: byKind.get('password_spray') ?? [],
      credential_stuffing: byKind.get('credential_stuffing') ?? [],
      impossible_travel: byKind.get('impossible_travel') ?? [],
      new_device: fp('new_device', traffic.expectedNewDevice),
      new_country: fp('new_country', traffic.expectedNewCountry),
    };
    const failures = traffic.events.filter((e) => e.outcome === 'failure').length;
    console.log(
      `normal traffic: ${traffic.events.length} events, ${traffic.users} users, ${failures} failed logins, ${traffic.trips} trips, ${traffic.newPhones} new phones; ` +
        `processed in ${ms.toFixed(0)} ms (${Math.round(traffic.events.length / (ms / 1000))} events/s through SQLite state)\n` +
        `detections: ${JSON.stringify(Object.fromEntries([...byKind].map(([k, v]) => [k, v.length])))}; ` +
        `expected new_device ${traffic.expectedNewDevice.size}, new_country ${traffic.expectedNewCountry.size}\n` +
        `false positives: ${JSON.stringify(Object.fromEntries(Object.entries(falsePositives).map(([k, v]) => [k, v.length])))}`,
    );
    for (const [kind, list] of Object.entries(falsePositives)) expect({ kind, falsePositives: list }).toEqual({ kind, falsePositives: [] });
    // The informational kinds do fire on this traffic: trips to new countries and new phones.
    expect(byKind.get('new_country')?.length).toBe(traffic.expectedNewCountry.size);
    expect(byKind.get('new_device')?.length).toBe(traffic.expectedNewDevice.size);
    expect(traffic.expectedNewCountry.size).toBeGreaterThan(0);
  });

  test('attacks mixed into normal traffic are each found, and nothing else', async () => {
    const traffic = normalTraffic(10_000, 11);
    const t = traffic.events[5000].time;
    const attack: StoredEvent[] = [
      ...Array.from({ length: 9 }, (_, i) => fail('user007', '203.0.113.9', t + i * 7000)),
      ...Array.from({ length: 12 }, (_, i) => fail(`user${String(100 + i)}`, '203.0.113.10', t + i * 60_000)),
      ...Array.from({ length: 30 }, (_, i) => fail(`nobody${i}`, '203.0.113.11', t + i * 2000, 'invalid_user')),
    ];
    const events = [...traffic.events, ...attack].sort((a, b) => a.time - b.time);
    const ds = await run(detect({ AUTHWATCH_DETECT: 'brute_force,password_spray,credential_stuffing,impossible_travel' }), events);
    expect(ds.map((d) => `${d.reason} ${d.reason === 'brute_force' ? d.user : d.ip}`).sort()).toEqual([
      'brute_force user007',
      'credential_stuffing 203.0.113.11',
      'password_spray 203.0.113.10',
      'password_spray 203.0.113.11',
    ]);
  });
});

describe('windows kept in the store, as replicas sharing PostgreSQL keep them', () => {
  // Kept state expires by the clock: these events are from the next days, not from a past year.
  const SOON = Date.now() + 86_400_000;
  const attackTraffic = () => {
    const traffic = normalTraffic(4_000, 13, 3, SOON);
    const t = traffic.events[2000].time;
    const attack: StoredEvent[] = [
      ...Array.from({ length: 9 }, (_, i) => fail('user007', '203.0.113.9', t + i * 7000)),
      ...Array.from({ length: 12 }, (_, i) => fail(`user${String(100 + i)}`, '203.0.113.10', t + i * 120_000)),
      ...Array.from({ length: 30 }, (_, i) => fail(`nobody${i}`, '203.0.113.11', t + i * 2000, 'invalid_user')),
      // The same address later on, past stuffing's cooldown: fires again.
      ...Array.from({ length: 25 }, (_, i) => fail(`again${i}`, '203.0.113.11', t + 11 * 60_000 + i * 1000, 'invalid_user')),
    ];
    return [...traffic.events, ...attack].sort((a, b) => a.time - b.time);
  };
  const env = { AUTHWATCH_DETECT: 'brute_force,password_spray,credential_stuffing' };
  const summary = (ds: StoredEvent[]) =>
    ds
      .map((d) => ({ reason: d.reason, user: d.user, ip: d.ip, time: d.time, attributes: d.attributes }))
      .sort((a, b) => a.time - b.time || a.reason!.localeCompare(b.reason!));

  test('fire exactly as windows kept in memory, batch after batch', async () => {
    const events = attackTraffic();
    const inMemory = await run(detect(env), events, 37);
    // A fresh processor per batch: nothing survives in memory, all comes from the store's state.
    const emitted: StoredEvent[] = [];
    for (let i = 0; i < events.length; i += 3) emitted.push(...(await run(detect(env), events.slice(i, i + 3), 3, { shared: true })));
    expect(summary(inMemory).map((d) => `${d.reason} ${d.reason === 'brute_force' ? d.user : d.ip}`)).toEqual([
      'password_spray 203.0.113.11',
      'credential_stuffing 203.0.113.11',
      'brute_force user007',
      // The second burst, past both cooldowns.
      'password_spray 203.0.113.11',
      'credential_stuffing 203.0.113.11',
      // 12 users over 22 minutes: inside spray's 30-minute window, never inside stuffing's 10.
      'password_spray 203.0.113.10',
    ]);
    expect(summary(emitted)).toEqual(summary(inMemory));
  });

  test('replicas each keeping the windows they saw fire exactly as one process, batches interleaved', async () => {
    const events = attackTraffic();
    const inMemory = await run(detect(env), events, 37);
    // Two replicas, each with its own processors (and the windows they have seen): replica A takes
    // one batch in seven, B the rest, so A is behind by six of B's log rows, or past a snapshot,
    // every time. Every other time A's transaction fails after its detections ran (A's windows
    // hold attempts the store does not) and B stores that batch.
    // Each replica keeps at most 100 keys' windows (the least): the rest are read from the log again.
    const small = { ...env, AUTHWATCH_DETECT_MAX_TRACKED: '100' };
    const [a, b] = [detect(small), detect(small)];
    const emitted: StoredEvent[] = [];
    for (let i = 0, n = 0; i < events.length; i += 3, n++) {
      const slice = events.slice(i, i + 3);
      if (n % 14 === 0) {
        await expect(
          db.store.write(async (plain) => {
            const tx = markShared({ ...plain });
            const ctx = { now: slice[slice.length - 1].time, tx, policy: await tx.getPolicy(), emit: () => undefined };
            for (const p of a) await p.process(slice, ctx);
            throw new Error('rolled back after the detections');
          }),
        ).rejects.toThrow('rolled back');
      }
      emitted.push(...(await run(n % 14 !== 0 && n % 7 === 0 ? a : b, slice, 3, { shared: true })));
    }
    expect(summary(emitted)).toEqual(summary(inMemory));
  });

  test('a replica whose transaction failed after its detections ran counts what the store holds, not what it had added', async () => {
    const bruteForce = { AUTHWATCH_DETECT: 'brute_force' };
    // Replica A adds a failure, then five in a transaction that fails (not stored); then `after`
    // adds the rest, one replica's batch at a time: 7 failures stored, one under the threshold of 8,
    // so nothing fires; the 8th, on A, fires.
    const scenario = async (victim: string, after: ('a' | 'b')[][]) => {
      const [a, b] = [detect(bruteForce), detect(bruteForce)];
      const replica = { a, b };
      let i = 0;
      const next = () => fail(victim, '203.0.113.5', SOON + i++ * 1000);
      await run(a, [next()], 500, { shared: true });
      const phantom = [1, 2, 3, 4, 5].map((k) => fail(victim, '203.0.113.5', SOON + 500 + k));
      await expect(
        db.store.write(async (plain) => {
          const tx = markShared({ ...plain });
          const ctx = { now: SOON, tx, policy: await tx.getPolicy(), emit: () => undefined };
          for (const p of a) await p.process(phantom, ctx);
          throw new Error('rolled back after the detections');
        }),
      ).rejects.toThrow('rolled back');
      const emitted: StoredEvent[] = [];
      for (const batch of after) for (const r of batch) emitted.push(...(await run(replica[r], [next()], 500, { shared: true })));
      expect(emitted).toEqual([]);
      return (await run(a, [next()], 500, { shared: true })).map((d) => [d.reason, d.attributes!.failures]);
    };
    // What A holds is as many writes behind the store as a one-write lag (the head's attempts would do).
    expect(await scenario('victim1', [['b', 'b', 'a'], ['b', 'b', 'a']])).toEqual([['brute_force', 8]]);
    // Further behind (the log's rows would do).
    expect(await scenario('victim2', [['b', 'b', 'b', 'a'], ['b', 'a']])).toEqual([['brute_force', 8]]);
    // A first: its write goes on top of the store's, not of what it had added.
    expect(await scenario('victim3', [['a', 'b', 'b', 'b', 'b', 'a']])).toEqual([['brute_force', 8]]);
  });

  test('a batch writes what it added to a key, not the key\'s whole window', async () => {
    const sprayAndStuffing = detect({ AUTHWATCH_DETECT: 'password_spray,credential_stuffing' });
    const ns = 'soft:detect.log.password_spray+credential_stuffing';
    const ip = '203.0.113.20';
    await run(sprayAndStuffing, [fail('a', ip, SOON)], 500, { shared: true });
    const head = () => db.store.write((tx) => tx.getState<{ f: unknown; g: number; n: number; s: number; t: number; p: number; d?: unknown }>(ns, ip));
    const logRows = async (from: number, to: number) => {
      const h = (await head())!;
      return db.store.write((tx) => windowLogOf(tx).readWindowLog(ns, [{ key: ip, gen: h.g, from, to }]));
    };
    // One state row per address for both detections (none per detection): the cooldowns, where its
    // log stands, and the last write's attempts. The address is the key: each attempt keeps its time
    // (from b), user and flags.
    const first = await head();
    expect(first).toEqual({ f: [null, null], g: expect.any(Number), n: 1, s: -1, t: expect.any(Number), p: 0, d: { b: SOON, e: [[0, 'a', 1]] } });
    for (const other of ['soft:detect.log.password_spray', 'soft:detect.log.credential_stuffing']) {
      expect(await db.store.write((tx) => tx.getState(other, ip))).toBeUndefined();
    }
    // The same attempts in the log's first row.
    expect((await logRows(0, 1)).map((r) => [r.seq, r.prev, JSON.parse(r.data)])).toEqual([[0, 0, { b: SOON, e: [[0, 'a', 1]] }]]);

    // 70 more batches of one attempt each: every row written is that batch's one attempt, except a
    // snapshot of the whole window every SNAPSHOT_EVERY rows.
    for (let i = 1; i <= 70; i++) await run(sprayAndStuffing, [fail(`u${i}`, ip, SOON + i * 1000)], 500, { shared: true });
    const h = (await head())!;
    expect(h).toMatchObject({ n: 71, s: 2 * SNAPSHOT_EVERY });
    const rows = await logRows(h.s, h.n);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 71 - 2 * SNAPSHOT_EVERY }, (_, i) => 2 * SNAPSHOT_EVERY + i));
    const attempts = rows.map((r) => (JSON.parse(r.data) as { e: unknown[] }).e.length);
    expect(attempts).toEqual([2 * SNAPSHOT_EVERY + 1, ...Array.from({ length: 70 - 2 * SNAPSHOT_EVERY }, () => 1)]);
  });

  test('rows of the earlier layout (whole windows) are left to replicas still writing it; this one starts afresh', async () => {
    // What a replica before the log wrote: 7 failures in one row. A replica on the log does not
    // read it (nor fail on it), and a replica on the old layout does not read the log's rows.
    const seven = Array.from({ length: 7 }, (_, i) => [SOON + i * 1000, 'victim', '203.0.113.5', 1]);
    const old = { w: { e: seven }, f: null };
    await db.store.write((tx) => tx.putState('soft:detect.window.brute_force', 'victim', old, SOON + 600_000));
    expect(await run(detect({ AUTHWATCH_DETECT: 'brute_force' }), [fail('victim', '203.0.113.5', SOON + 8000)], 500, { shared: true })).toEqual([]);
    expect(await db.store.write((tx) => tx.getState('soft:detect.window.brute_force', 'victim'))).toEqual(old);
  });
});
