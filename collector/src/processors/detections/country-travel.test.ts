// impossible_travel with country data only (the shipped database, no city file): events carry a
// country but no coordinates, and the country's places from the tz database stand in, with a
// tolerance per side. Through the real SQLite store, and end to end through the real collector
// with its real geo enrichment.
import type { StoredEvent } from '../../schema/stored-event';
import { CITIES, DEVICES, loginEvent, normalTraffic } from '../../../test/fixtures/detect-traffic';
import { useDetectionStore } from '../../../test/helpers/detection-store';
import { startServer } from '../../../test/helpers/server';
import { createDetections } from '.';
import { parseDetectionConfig } from './config';
import { COUNTRY_PLACES } from './country-places';
import { DetectionConfigError } from './config';
import { whereabouts } from './user-profile';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const MIN = 60_000;
const [PARIS, , , , LONDON, , , , , , , , SYDNEY] = CITIES;

const db = useDetectionStore('travel');
const run = db.run.bind(db);

/** A successful login located by country only, as the shipped country database enriches it. */
const byCountry = (user: string, country: string, time: number, ip = '192.0.2.1'): StoredEvent => ({
  ...loginEvent({ time, user, outcome: 'success', ip, device: DEVICES[0] }),
  country,
});
const travelOnly = (env: NodeJS.ProcessEnv = {}) => createDetections(parseDetectionConfig({ AUTHWATCH_DETECT: 'impossible_travel', ...env }));

test('the shipped table covers the ISO codes that have time zones, with sane coordinates', () => {
  const codes = Object.keys(COUNTRY_PLACES);
  expect(codes.length).toBeGreaterThanOrEqual(240);
  for (const c of ['FR', 'DE', 'GB', 'US', 'AU', 'JP', 'IN', 'BR', 'CN', 'RU', 'ZA']) expect(codes).toContain(c);
  for (const places of Object.values(COUNTRY_PLACES)) {
    for (const [lat, lon] of places) {
      expect(Math.abs(lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(lon)).toBeLessThanOrEqual(180);
    }
  }
  // Paris is France's place (zone.tab: Europe/Paris +4852+00220).
  expect(COUNTRY_PLACES.FR[0][0]).toBeCloseTo(48.87, 1);
  expect(COUNTRY_PLACES.FR[0][1]).toBeCloseTo(2.33, 1);
  expect(whereabouts(null, null, 'private', 2000)).toBeNull();
  expect(whereabouts(null, null, 'reserved', 2000)).toBeNull();
  expect(whereabouts(null, null, 'ZZ', 2000)).toBeNull();
});

test('France, then Australia 30 minutes later fires, marked as country precision', async () => {
  const ds = await run(travelOnly(), [byCountry('amy', 'FR', T0), byCountry('amy', 'AU', T0 + 30 * MIN)]);
  expect(ds).toHaveLength(1);
  expect(ds[0]).toMatchObject({
    reason: 'impossible_travel',
    user: 'amy',
    country: 'AU',
    attributes: { previous_country: 'FR', previous_city: '', precision: 'country', max_kmh: 1000 },
  });
  // Paris to the nearest Australian place (Perth, ≈14,000 km) less 2 × 2,000 km of tolerance.
  const km = ds[0].attributes!.distance_km as number;
  expect(km).toBeGreaterThan(9_000);
  expect(km).toBeLessThan(11_000);
  expect(Math.abs((ds[0].attributes!.speed_kmh as number) - km * 2)).toBeLessThanOrEqual(1);
});

test('one side with city coordinates, the other by country: the tolerance is taken once', async () => {
  const paris = loginEvent({ time: T0, user: 'ben', outcome: 'success', ip: '81.0.0.1', city: PARIS, device: DEVICES[0] });
  const ds = await run(travelOnly(), [paris, byCountry('ben', 'AU', T0 + 60 * MIN)]);
  expect(ds).toHaveLength(1);
  expect(ds[0].attributes).toMatchObject({ precision: 'country', previous_city: 'Paris' });
  expect(ds[0].attributes!.distance_km as number).toBeGreaterThan(11_000);
  // With both ends in cities the precision says so.
  const both = await run(travelOnly(), [
    loginEvent({ time: T0, user: 'cal', outcome: 'success', ip: '81.0.0.2', city: LONDON, device: DEVICES[0] }),
    loginEvent({ time: T0 + 60 * MIN, user: 'cal', outcome: 'success', ip: '1.2.3.4', city: SYDNEY, device: DEVICES[0] }),
  ]);
  expect(both[0].attributes).toMatchObject({ precision: 'city' });
});

test('neighbours, a real flight, private/reserved addresses and unknown codes stay quiet', async () => {
  const events = [
    // France → Germany in 10 minutes: Paris–Berlin 880 km is inside the tolerance.
    byCountry('dan', 'FR', T0),
    byCountry('dan', 'DE', T0 + 10 * MIN),
    // United States → Canada in 5 minutes: border towns.
    byCountry('eve', 'US', T0),
    byCountry('eve', 'CA', T0 + 5 * MIN),
    // United Kingdom → United States in 8 hours: a flight (5,570 km − 4,000 km in 8 h).
    byCountry('fay', 'GB', T0),
    byCountry('fay', 'US', T0 + 8 * 60 * MIN),
    // No country-level place: nothing to compare.
    byCountry('gus', 'FR', T0),
    byCountry('gus', 'private', T0 + MIN),
    byCountry('gus', 'reserved', T0 + 2 * MIN),
    byCountry('gus', 'EU', T0 + 3 * MIN),
  ];
  expect(await run(travelOnly(), events)).toEqual([]);
});

test('the private login in between does not hide the trip: France, private, Australia still fires', async () => {
  const ds = await run(travelOnly(), [byCountry('hal', 'FR', T0), byCountry('hal', 'private', T0 + 5 * MIN), byCountry('hal', 'AU', T0 + 20 * MIN)]);
  expect(ds.map((d) => d.reason)).toEqual(['impossible_travel']);
});

test('a wider tolerance (AUTHWATCH_DETECT_TRAVEL_COUNTRY_TOLERANCE_KM) silences a shorter hop; bad values are refused', async () => {
  const hop = [byCountry('ian', 'GB', T0), byCountry('ian', 'US', T0 + 60 * MIN)];
  expect((await run(travelOnly(), hop)).map((d) => d.reason)).toEqual(['impossible_travel']);
  const later = [byCountry('jo', 'GB', T0), byCountry('jo', 'US', T0 + 60 * MIN)];
  expect(await run(travelOnly({ AUTHWATCH_DETECT_TRAVEL_COUNTRY_TOLERANCE_KM: '3000' }), later)).toEqual([]);
  expect(() => travelOnly({ AUTHWATCH_DETECT_TRAVEL_COUNTRY_TOLERANCE_KM: '-1' })).toThrow(DetectionConfigError);
});

test('10k events of normal traffic located by country only: no impossible_travel', async () => {
  const traffic = normalTraffic(10_000, 5);
  const countryOnly = traffic.events.map((e) => ({ ...e, latitude: null, longitude: null, city: null }));
  const ds = await run(travelOnly(), countryOnly);
  expect(ds).toEqual([]);
  expect(traffic.trips).toBeGreaterThan(0);
});

test('end to end with the shipped country database only: a French address, then an Australian one 30 minutes later', async () => {
  const srv = await startServer({ env: { AUTHWATCH_GEO_CITY_DB: 'off' } });
  try {
    const t = Date.now() - 3600_000;
    const post = await srv.post('/v1/events', [
      { type: 'login', outcome: 'success', user: 'kim', ip: '90.12.34.56', time: t },
      { type: 'login', outcome: 'success', user: 'kim', ip: '1.130.0.7', time: t + 30 * MIN },
    ]);
    expect(post.status).toBe(202);
    const logins = (await srv.get('/v1/events?type=login&order=asc')).body as { events: StoredEvent[] };
    expect(logins.events.map((e) => [e.country, e.latitude])).toEqual([
      ['FR', null],
      ['AU', null],
    ]);
    const det = (await srv.get('/v1/events?type=detection&reason=impossible_travel')).body as { events: StoredEvent[] };
    expect(det.events).toHaveLength(1);
    expect(det.events[0]).toMatchObject({ user: 'kim', country: 'AU', attributes: { previous_country: 'FR', precision: 'country' } });
    // The sinks see committed events after the answer: wait until the counter shows it.
    const counted = /authwatch_detections_total\{[^}]*kind="impossible_travel"[^}]*\} 1/;
    let metrics = '';
    for (let i = 0; i < 100 && !counted.test(metrics); i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      metrics = await (await fetch(`${srv.url}/metrics`)).text();
    }
    expect(metrics).toMatch(counted);
  } finally {
    await srv.stop(true);
  }
});

test('France then the United States by country: one hour apart fires, two hours apart (920 km/h) does not', async () => {
  // Paris–New York 5,840 km less 2 × 2,000 km of tolerance leaves 1,840 km.
  const ds = await run(travelOnly(), [byCountry('lou', 'FR', T0), byCountry('lou', 'US', T0 + 60 * MIN)]);
  expect(ds).toHaveLength(1);
  expect(ds[0].attributes!.distance_km as number).toBeGreaterThan(1_800);
  expect(await run(travelOnly(), [byCountry('max', 'FR', T0), byCountry('max', 'US', T0 + 2 * 60 * MIN)])).toEqual([]);
});
