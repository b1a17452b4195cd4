// Enrichers run in this order on every accepted event, before the store transaction:
// geo (country, city, coordinates, ASN/ISP) → user agent (browser, OS, device) → optional IP
// truncation, which comes last so location is looked up from the full address.
// Config: docs/enrichment.md.
import type { Enricher } from '../pipeline/contracts';
import { createGeoEnricher, GeoLookup, geoConfigFromEnv, type GeoConfig } from './geo';
import { createIpTruncateEnricher } from './ip-truncate';
import { createUserAgentEnricher, UserAgentParser } from './useragent';

function flag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

function off(value: string | undefined): boolean {
  return value !== undefined && ['0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());
}

export interface EnrichConfig {
  /** null: AUTHWATCH_GEO=0. */
  geo: GeoConfig | null;
  userAgent: boolean;
  ipTruncate: boolean;
}

/** Reads AUTHWATCH_GEO, AUTHWATCH_GEO_*, AUTHWATCH_USER_AGENT_PARSING, AUTHWATCH_IP_TRUNCATE. */
export function parseEnrichConfig(env: NodeJS.ProcessEnv): EnrichConfig {
  return {
    geo: off(env.AUTHWATCH_GEO) ? null : geoConfigFromEnv(env),
    userAgent: !off(env.AUTHWATCH_USER_AGENT_PARSING),
    ipTruncate: flag(env.AUTHWATCH_IP_TRUNCATE),
  };
}

export function createEnrichers(config: EnrichConfig): Enricher[] {
  const enrichers: Enricher[] = [];
  if (config.geo) {
    try {
      enrichers.push(createGeoEnricher(new GeoLookup(config.geo)));
    } catch (err) {
      // A configured path that cannot be read is an operator error: say which, and stop.
      throw new Error(
        `geo enrichment: cannot open the databases (${(err as Error).message}); ` +
          'check AUTHWATCH_GEO_COUNTRY_DB / AUTHWATCH_GEO_ASN_DB / AUTHWATCH_GEO_CITY_DB, or set AUTHWATCH_GEO=0',
      );
    }
  }
  if (config.userAgent) enrichers.push(createUserAgentEnricher(new UserAgentParser()));
  if (config.ipTruncate) enrichers.push(createIpTruncateEnricher());
  return enrichers;
}
