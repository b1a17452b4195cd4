// Enrichment against the real shipped data (@ip-location-db packages) and the real ua-parser-js.
import { blankEvent, type StoredEvent } from '../schema/stored-event';
import { parseEnrichConfig, createEnrichers } from '.';
import { classifyAddress, normaliseRecord, parseIp } from './geo';
import { truncateIp } from './ip-truncate';
import { parseUserAgent } from './useragent';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const IPAD_SAFARI =
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1';

function enrich(env: NodeJS.ProcessEnv, fields: Partial<StoredEvent>): StoredEvent {
  const ev = blankEvent({ id: 'e1', time: Date.now(), type: 'login', user: 'alice', ...fields });
  for (const e of createEnrichers(parseEnrichConfig(env))) e.enrich(ev);
  return ev;
}

describe('geo enrichment with the shipped data', () => {
  test('8.8.8.8 is Google in the US', () => {
    const ev = enrich({}, { ip: '8.8.8.8' });
    expect(ev.country).toBe('US');
    expect(ev.asn).toBe(15169);
    expect(ev.isp).toMatch(/Google/);
  });

  test('1.1.1.1 and its IPv6 twin belong to Cloudflare (AS13335)', () => {
    expect(enrich({}, { ip: '1.1.1.1' })).toMatchObject({ asn: 13335, isp: expect.stringMatching(/Cloudflare/) });
    expect(enrich({}, { ip: '2606:4700:4700::1111' })).toMatchObject({ asn: 13335, country: 'US' });
  });

  test('an IPv4-mapped IPv6 address is looked up as IPv4', () => {
    expect(enrich({}, { ip: '::ffff:8.8.8.8' })).toMatchObject({ country: 'US', asn: 15169 });
  });

  test('private, CGNAT, loopback, link-local and ULA addresses are "private"; documentation ranges "reserved"', () => {
    for (const ip of ['10.1.2.3', '172.16.0.9', '192.168.1.20', '100.64.0.1', '127.0.0.1', '169.254.3.4', 'fd12:3456::1', 'fe80::1%eth0', '::1']) {
      expect({ ip, ...pick(enrich({}, { ip })) }).toEqual({ ip, country: 'private', asn: null, isp: null });
    }
    for (const ip of ['192.0.2.7', '198.51.100.1', '203.0.113.9', '2001:db8::5', '240.0.0.1', '224.0.0.1']) {
      expect({ ip, ...pick(enrich({}, { ip })) }).toEqual({ ip, country: 'reserved', asn: null, isp: null });
    }
  });

  test('garbage and missing addresses leave the fields null', () => {
    expect(pick(enrich({}, { ip: 'not-an-ip' }))).toEqual({ country: null, asn: null, isp: null });
    expect(pick(enrich({}, { ip: null }))).toEqual({ country: null, asn: null, isp: null });
  });

  test('AUTHWATCH_GEO=0 switches geo off', () => {
    expect(enrich({ AUTHWATCH_GEO: '0' }, { ip: '8.8.8.8' }).country).toBeNull();
  });

  test('a configured database path that does not exist is a clear startup error', () => {
    expect(() => createEnrichers(parseEnrichConfig({ AUTHWATCH_GEO_COUNTRY_DB: '/nonexistent/GeoLite2-Country.mmdb' }))).toThrow(
      /AUTHWATCH_GEO_COUNTRY_DB.*AUTHWATCH_GEO=0|nonexistent/,
    );
  });

  test('each lookup can be pointed elsewhere or switched off', () => {
    expect(() => createEnrichers(parseEnrichConfig({ AUTHWATCH_GEO_ASN_DB: '/nonexistent/asn' }))).toThrow(/ASN data not found: \/nonexistent\/asn/);
    expect(enrich({ AUTHWATCH_GEO_ASN_DB: 'off' }, { ip: '8.8.8.8' })).toMatchObject({ country: 'US', asn: null, isp: null });
    expect(enrich({ AUTHWATCH_GEO_COUNTRY_DB: 'off' }, { ip: '8.8.8.8' })).toMatchObject({ country: null, asn: 15169 });
    const dir = require('node:path').dirname(require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json'));
    // Separate per-family files, as ip-location-db and MaxMind both ship them.
    const split = `${dir}/geo-whois-asn-country-ipv4.mmdb,${dir}/geo-whois-asn-country-ipv6.mmdb`;
    expect(enrich({ AUTHWATCH_GEO_COUNTRY_DB: split }, { ip: '81.2.69.142' }).country).toBe('GB');
    expect(enrich({ AUTHWATCH_GEO_COUNTRY_DB: split }, { ip: '2001:4860:4860::8888' }).country).toBe('US');
  });

  test('records in the MaxMind GeoLite2/GeoIP2 schema map onto the same fields', () => {
    expect(
      normaliseRecord({
        country: { iso_code: 'DE', names: { en: 'Germany' } },
        city: { names: { en: 'Berlin', de: 'Berlin' } },
        location: { latitude: 52.52, longitude: 13.405, accuracy_radius: 20 },
      }),
    ).toEqual({ country: 'DE', city: 'Berlin', latitude: 52.52, longitude: 13.405 });
    expect(normaliseRecord({ autonomous_system_number: 3320, autonomous_system_organization: 'Deutsche Telekom AG' })).toEqual({
      asn: 3320,
      isp: 'Deutsche Telekom AG',
    });
    // ip-location-db city schema
    expect(normaliseRecord({ city: 'Paris', country_code: 'FR', latitude: 48.85, longitude: 2.35 })).toEqual({
      country: 'FR',
      city: 'Paris',
      latitude: 48.85,
      longitude: 2.35,
    });
  });

  test('address classes', () => {
    expect(classifyAddress(parseIp('8.8.4.4')!)).toBe('public');
    expect(classifyAddress(parseIp('2a00:1450:4001::1')!)).toBe('public');
    expect(classifyAddress(parseIp('100.127.255.254')!)).toBe('private');
  });
});

describe('user agent enrichment', () => {
  test('Chrome on Windows is a desktop', () => {
    expect(pickUa(enrich({ AUTHWATCH_GEO: '0' }, { user_agent: CHROME_WINDOWS }))).toEqual({
      browser: 'Chrome',
      browser_version: '131.0.0.0',
      os: 'Windows',
      os_version: '10',
      device_type: 'desktop',
    });
  });

  test('Safari on an iPhone is Mobile Safari on iOS, mobile', () => {
    expect(pickUa(enrich({ AUTHWATCH_GEO: '0' }, { user_agent: IPHONE_SAFARI }))).toEqual({
      browser: 'Mobile Safari',
      browser_version: '17.5',
      os: 'iOS',
      os_version: '17.5',
      device_type: 'mobile',
    });
  });

  test('an iPad is a tablet; crawlers and scripts are bots; an empty UA stays unknown', () => {
    expect(parseUserAgent(IPAD_SAFARI).device_type).toBe('tablet');
    expect(parseUserAgent('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)').device_type).toBe('bot');
    expect(parseUserAgent('curl/8.5.0').device_type).toBe('bot');
    expect(parseUserAgent('python-requests/2.32.3').device_type).toBe('bot');
    expect(parseUserAgent('')).toEqual({ browser: null, browser_version: null, os: null, os_version: null, device_type: null });
  });
});

describe('IP truncation', () => {
  test('IPv4 keeps /24, IPv6 keeps /48', () => {
    expect(truncateIp('203.0.113.77')).toBe('203.0.113.0');
    expect(truncateIp('2001:db8:abcd:12:34::1')).toBe('2001:db8:abcd::');
    expect(truncateIp('::ffff:8.8.8.8')).toBe('8.8.8.0');
    expect(truncateIp('not-an-ip')).toBe('not-an-ip');
  });

  test('with AUTHWATCH_IP_TRUNCATE=1 the stored address is truncated but location comes from the full one', () => {
    const ev = enrich({ AUTHWATCH_IP_TRUNCATE: '1' }, { ip: '8.8.8.8' });
    expect(ev.ip).toBe('8.8.8.0');
    expect(ev).toMatchObject({ country: 'US', asn: 15169 });
    expect(enrich({}, { ip: '8.8.8.8' }).ip).toBe('8.8.8.8');
  });
});

function pick(ev: StoredEvent) {
  return { country: ev.country, asn: ev.asn, isp: ev.isp };
}
function pickUa(ev: StoredEvent) {
  return { browser: ev.browser, browser_version: ev.browser_version, os: ev.os, os_version: ev.os_version, device_type: ev.device_type };
}
