// Enrichment is memoised: real traffic repeats a few user agents and addresses, so each distinct
// one is parsed or looked up once and then served from a bounded LRU (the least recently used
// entry goes first, so an attacker rotating values cannot grow memory, only churn the cache).
import { GeoLookup, geoConfigFromEnv, MAX_GEO_CACHE } from './geo';
import { UserAgentParser } from './useragent';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const CURL = 'curl/8.5.0';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

test('a repeated user agent is parsed once; the cache keeps only the most recent ones', () => {
  const p = new UserAgentParser(2);
  const first = p.parse(FIREFOX);
  expect(first).toMatchObject({ browser: 'Firefox', os: 'Linux', device_type: 'desktop' });
  expect(p.parse(FIREFOX)).toBe(first); // the cached result, not a new parse
  const curl = p.parse(CURL);
  expect(curl.device_type).toBe('bot');
  expect(p.parse(FIREFOX)).toBe(first); // Firefox is now the most recent, curl the least
  p.parse(IPHONE); // a third agent: curl is evicted
  expect(p.parse(FIREFOX)).toBe(first);
  const again = p.parse(CURL);
  expect(again).not.toBe(curl); // parsed afresh
  expect(again).toEqual(curl); // to the same answer
});

test('a repeated address is looked up once; the cache is bounded by AUTHWATCH_GEO_CACHE_SIZE', () => {
  const geo = new GeoLookup(geoConfigFromEnv({ AUTHWATCH_GEO_CACHE_SIZE: '2', AUTHWATCH_GEO_CITY_DB: 'off' }));
  const google = geo.lookup('8.8.8.8');
  expect(google).toMatchObject({ country: 'US', asn: 15169 });
  expect(geo.lookup('8.8.8.8')).toBe(google);
  const cloudflare = geo.lookup('1.1.1.1');
  expect(cloudflare.asn).toBe(13335);
  expect(geo.lookup('8.8.8.8')).toBe(google);
  geo.lookup('10.0.0.1'); // evicts 1.1.1.1, the least recently used
  expect(geo.lookup('8.8.8.8')).toBe(google);
  const again = geo.lookup('1.1.1.1');
  expect(again).not.toBe(cloudflare);
  expect(again).toEqual(cloudflare);
});

test('a non-number or non-positive cache size falls back to the default; a huge one is capped (it would exhaust memory at start)', () => {
  for (const v of ['0', '-5', 'lots', '1e99999']) expect(geoConfigFromEnv({ AUTHWATCH_GEO_CACHE_SIZE: v }).cacheSize).toBe(50_000);
  expect(geoConfigFromEnv({ AUTHWATCH_GEO_CACHE_SIZE: '1000000000' }).cacheSize).toBe(MAX_GEO_CACHE);
  expect(() => new GeoLookup({ ...geoConfigFromEnv({ AUTHWATCH_GEO_CACHE_SIZE: '1000000000' }), cityFiles: [] })).not.toThrow();
});
