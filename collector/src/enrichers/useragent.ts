// User agent → browser, OS and device class with ua-parser-js v1 (MIT; v2 is AGPL and must not be
// used). Parsing costs tens of microseconds and a fleet sends few distinct UA strings, so results
// are cached per string in a bounded LRU.
import { LRUCache } from 'lru-cache';
import UAParser from 'ua-parser-js';
import type { Enricher } from '../pipeline/contracts';
import type { StoredEvent } from '../schema/stored-event';

export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'other';

export interface UserAgentInfo {
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  os_version: string | null;
  device_type: DeviceType | null;
}

// ua-parser-js v1 does not classify crawlers and scripts; these tokens are what they send.
const BOT_PATTERN =
  /bot\b|bot\/|crawler|spider|crawling|slurp|headlesschrome|phantomjs|curl\/|wget\/|python-requests|python-urllib|aiohttp|go-http-client|okhttp|java\/|libwww|httpclient|axios\/|node-fetch|undici|postmanruntime|insomnia/i;

/** UA strings longer than this are cut before parsing (ua-parser-js v1 does the same at 500). */
const MAX_UA_LENGTH = 500;

export function parseUserAgent(ua: string): UserAgentInfo {
  const r = new UAParser(ua.slice(0, MAX_UA_LENGTH)).getResult();
  const browser = r.browser.name ?? null;
  const os = r.os.name ?? null;
  let device_type: DeviceType | null;
  if (BOT_PATTERN.test(ua)) device_type = 'bot';
  else if (r.device.type === 'mobile') device_type = 'mobile';
  else if (r.device.type === 'tablet') device_type = 'tablet';
  else if (r.device.type) device_type = 'other'; // console, smarttv, wearable, embedded
  else if (browser || os) device_type = 'desktop';
  else device_type = null;
  return {
    browser,
    browser_version: r.browser.version ?? null,
    os,
    os_version: r.os.version ?? null,
    device_type,
  };
}

export class UserAgentParser {
  private readonly cache: LRUCache<string, UserAgentInfo>;

  constructor(cacheSize = 10_000) {
    this.cache = new LRUCache({ max: cacheSize });
  }

  parse(ua: string): UserAgentInfo {
    let info = this.cache.get(ua);
    if (!info) {
      info = parseUserAgent(ua);
      this.cache.set(ua, info);
    }
    return info;
  }
}

/** Enricher filling browser, browser_version, os, os_version, device_type from event.user_agent. */
export function createUserAgentEnricher(parser: UserAgentParser): Enricher {
  return {
    name: 'user_agent',
    enrich(event: StoredEvent): void {
      if (!event.user_agent) return;
      const info = parser.parse(event.user_agent);
      event.browser = info.browser;
      event.browser_version = info.browser_version;
      event.os = info.os;
      event.os_version = info.os_version;
      event.device_type = info.device_type;
    },
  };
}
