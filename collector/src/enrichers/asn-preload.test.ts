// The ASN tables take about a second of CPU to build: the collector builds them in slices once
// traffic starts, so /v1/check keeps being answered meanwhile, and the sliced build must give the
// very answers of a build in one piece.
import { join } from 'node:path';
import { GeoLookup, geoConfigFromEnv } from './geo';
import { AsnCsvTable } from './geo-asn-csv';
import { ticker } from '../../test/helpers/loop-turns';

test('a sliced ASN load leaves turns to the event loop and answers like a load in one piece', async () => {
  const config = { ...geoConfigFromEnv({}), cityFiles: [] };
  const dir = config.asnFiles[0];
  const geo = new GeoLookup(config);
  const t = ticker();
  await geo.preloadAsn();
  expect(t.stop()).toBeGreaterThan(1);

  const whole = new AsnCsvTable(join(dir, 'asn-ipv4-num.csv'), join(dir, 'asn-ipv6-num.csv'));
  const bytes = (ip: string) => (ip.includes(':') ? [0x20, 0x01, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88] : ip.split('.').map(Number));
  for (const ip of ['8.8.8.8', '1.1.1.1', '9.9.9.9', '185.199.108.153', '2001:4860::8888']) {
    const g = geo.lookup(ip);
    const w = whole.lookup(bytes(ip));
    expect(w).not.toBeNull();
    expect(g.asn).toBe(w!.asn);
  }
  expect(geo.lookup('8.8.8.8').asn).toBe(15169);
});

test('a public address that comes before the sliced load is done is answered at once, with its ASN', async () => {
  // A fresh module: no table loaded by the test above.
  let fresh!: typeof import('./geo');
  jest.isolateModules(() => {
    fresh = require('./geo');
  });
  const geo = new fresh.GeoLookup({ ...fresh.geoConfigFromEnv({}), cityFiles: [] });
  expect(geo.lookup('10.1.2.3').asn).toBeNull(); // starts the background load
  expect(geo.lookup('1.1.1.1').asn).toBe(13335); // cannot wait for it
  await geo.preloadAsn(); // the background load stops, keeping the table already in use
  expect(geo.lookup('8.8.8.8').asn).toBe(15169);
});

test('after a start, the first batch with public addresses waits for the ASN tables with the event loop turning, and gets its ASN', async () => {
  // A fresh module registry: no ASN table loaded in this process yet.
  let helpers!: typeof import('../../test/helpers/server');
  jest.isolateModules(() => {
    helpers = require('../../test/helpers/server');
  });
  const s = await helpers.startServer();
  try {
    const t = ticker();
    const r = await s.post('/v1/events', [
      { type: 'login', outcome: 'failure', reason: 'invalid_password', user: 'asn-a', ip: '8.8.8.8' },
      { type: 'login', outcome: 'success', user: 'asn-b', ip: '1.1.1.1' },
    ], 'ingest');
    const turns = t.stop();
    expect(r.status).toBe(202);
    // The ~1 s build ran in 2 ms slices: hundreds of turns (built in one piece: a handful).
    expect(turns).toBeGreaterThan(50);
    const stored = await s.get('/v1/events?user=asn-a', 'read');
    expect(stored.body.events[0]).toMatchObject({ ip: '8.8.8.8', asn: 15169 });
  } finally {
    await s.stop(true);
  }
});

test('the sliced load finishes on an otherwise idle event loop (nothing else wakes it)', async () => {
  let fresh!: typeof import('./geo');
  jest.isolateModules(() => {
    fresh = require('./geo');
  });
  const geo = new fresh.GeoLookup({ ...fresh.geoConfigFromEnv({}), cityFiles: [] });
  await geo.preloadAsn();
  expect(geo.lookup('8.8.8.8').asn).toBe(15169);
}, 20_000);
