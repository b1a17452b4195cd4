// new_device, new_country and impossible_travel: all three compare a successful login with what
// the user did before, so they share one durable profile per user (tx state "detect.profile"),
// read and written once per user per batch. Profiles live in the store, so every replica sees the
// same history and a restart forgets nothing.
import type { Processor } from '../../pipeline/contracts';
import type { StoredEvent } from '../../schema/stored-event';
import type { DetectionConfig } from './config';
import { detectionEvent, isLoginAttempt } from './detection-event';
import { COUNTRY_PLACES } from './country-places';
import { distanceKm } from './geo-distance';
import { round } from './password-spray';

export const PROFILE_NAMESPACE = 'detect.profile';

interface LocatedLogin {
  t: number;
  /** null: located by country only (no city database), through COUNTRY_PLACES. */
  lat: number | null;
  lon: number | null;
  country: string | null;
  city: string | null;
}

/** Where a login may have been: one point (city data), or any of a country's places. */
interface Whereabouts {
  points: ReadonlyArray<readonly [number, number]>;
  /** Kilometres the real position may lie from the nearest point. */
  toleranceKm: number;
}

export interface UserProfile {
  /** Successful logins that carried a device fingerprint / a country. */
  device_logins: number;
  country_logins: number;
  /** Most recent first, distinct, capped. */
  devices: string[];
  countries: string[];
  /** The latest successful login that had coordinates, or a country with known places. */
  last_located: LocatedLogin | null;
  travel_alert_at: number | null;
}

const ISO_COUNTRY = /^[A-Z]{2}$/;

function emptyProfile(): UserProfile {
  return { device_logins: 0, country_logins: 0, devices: [], countries: [], last_located: null, travel_alert_at: null };
}

/** browser + OS + device class, without versions (an upgrade is not a new device). */
export function deviceFingerprint(e: StoredEvent): string | null {
  if (e.browser || e.os || e.device_type) return `${e.browser ?? '?'}|${e.os ?? '?'}|${e.device_type ?? '?'}`;
  // No user agent (an app or sshd): a client-reported device name is the next best thing.
  return e.device ? `device:${e.device}` : null;
}

/** Moves value to the front (most recent first, capped); false when it already was there. */
function remember(list: string[], value: string, cap: number): boolean {
  if (list[0] === value) return false;
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
  list.unshift(value);
  if (list.length > cap) list.length = cap;
  return true;
}

/**
 * A repeat login from where the user already was is written back only this often: fewer writes
 * per event, and a staler "last location" can only make a computed speed lower, never higher.
 */
const LOCATION_REFRESH_MS = 10 * 60_000;

export function createUserProfileDetections(config: DetectionConfig): Processor {
  const { kinds, travel, newDevice, newCountry } = config;
  return {
    name: 'detect_user_profile',
    async process(events, ctx) {
      // Loaded once per user per batch; written back only when something changed.
      const profiles = new Map<string, UserProfile>();
      const dirty = new Set<string>();
      for (const e of events) {
        if (!isLoginAttempt(e) || e.outcome !== 'success') continue;
        let p = profiles.get(e.user);
        if (!p) {
          p = { ...emptyProfile(), ...((await ctx.tx.getState<UserProfile>(PROFILE_NAMESPACE, e.user)) ?? {}) };
          profiles.set(e.user, p);
        }

        if (kinds.has('impossible_travel') && checkTravel(e, p)) dirty.add(e.user);

        const fp = deviceFingerprint(e);
        if (fp) {
          if (kinds.has('new_device') && p.device_logins >= newDevice.minHistory && !p.devices.includes(fp)) {
            ctx.emit(
              detectionEvent('new_device', e, e.user, ctx.now, {
                fingerprint: fp,
                known_devices: p.devices.length,
                previous_device: p.devices[0] ?? '',
              }),
            );
          }
          if (remember(p.devices, fp, newDevice.remember)) dirty.add(e.user);
          // Counted only up to where it matters, so a routine login changes nothing.
          if (p.device_logins < newDevice.minHistory) {
            p.device_logins++;
            dirty.add(e.user);
          }
        }

        const country = e.country && ISO_COUNTRY.test(e.country) ? e.country : null;
        if (country) {
          if (kinds.has('new_country') && p.country_logins >= newCountry.minHistory && !p.countries.includes(country)) {
            ctx.emit(
              detectionEvent('new_country', e, e.user, ctx.now, {
                country,
                previous_country: p.countries[0] ?? '',
                known_countries: p.countries.join(','),
              }),
            );
          }
          if (remember(p.countries, country, newCountry.remember)) dirty.add(e.user);
          if (p.country_logins < newCountry.minHistory) {
            p.country_logins++;
            dirty.add(e.user);
          }
        }
      }
      for (const user of dirty) await ctx.tx.putState(PROFILE_NAMESPACE, user, profiles.get(user)!, ctx.now + config.profileTtlMs);

      /** Checks e against the last located login and moves it on; true when p changed. */
      function checkTravel(e: StoredEvent, p: UserProfile): boolean {
        const here = whereabouts(e.latitude, e.longitude, e.country, travel.countryToleranceKm);
        if (!here) return false;
        const prev = p.last_located;
        const there = prev ? whereabouts(prev.lat, prev.lon, prev.country, travel.countryToleranceKm) : null;
        // Same coordinates (same city record) or the same country, both by country: the common
        // case, no trigonometry for it.
        const samePlace =
          prev !== null &&
          (e.latitude !== null ? prev.lat === e.latitude && prev.lon === e.longitude : prev.lat === null && prev.country === e.country);
        const apart = there && !samePlace ? nearestKm(there, here) : 0;
        let changed = false;
        if (!prev || (e.time >= prev.t && ((!samePlace && (apart >= 1 || e.latitude === null || prev.lat === null)) || e.time - prev.t >= LOCATION_REFRESH_MS))) {
          p.last_located = { t: e.time, lat: e.latitude, lon: e.longitude, country: e.country, city: e.city };
          changed = true;
        }
        if (!prev || !there) return changed;
        // The shortest the trip can have been: the nearest places, less what a country-level
        // position leaves open on each side.
        const km = Math.max(0, apart - here.toleranceKm - there.toleranceKm);
        // Below this distance IP geolocation error dominates (same metro, same ISP hub).
        if (km < travel.minKm) return changed;
        const seconds = Math.max(Math.abs(e.time - prev.t), 1000) / 1000;
        const kmh = km / (seconds / 3600);
        if (kmh <= travel.maxKmh) return changed;
        if (p.travel_alert_at !== null && Math.abs(e.time - p.travel_alert_at) < config.cooldownMs) return changed;
        p.travel_alert_at = e.time;
        ctx.emit(
          detectionEvent('impossible_travel', e, e.user, ctx.now, {
            distance_km: Math.round(km),
            speed_kmh: Math.round(kmh),
            seconds_between: round(seconds),
            max_kmh: travel.maxKmh,
            // "city": both ends had coordinates; "country": at least one was placed by its country.
            precision: here.toleranceKm === 0 && there.toleranceKm === 0 ? 'city' : 'country',
            previous_country: prev.country ?? '',
            previous_city: prev.city ?? '',
          }),
        );
        return true;
      }
    },
  };
}

/**
 * Coordinates when the event has them (city data); otherwise the country's places from the tz
 * database with a tolerance; null for no country, "private"/"reserved" or an unknown code.
 */
export function whereabouts(lat: number | null, lon: number | null, country: string | null, countryToleranceKm: number): Whereabouts | null {
  if (lat !== null && lon !== null) return { points: [[lat, lon]], toleranceKm: 0 };
  const places = country && ISO_COUNTRY.test(country) ? COUNTRY_PLACES[country] : undefined;
  return places ? { points: places, toleranceKm: countryToleranceKm } : null;
}

/** Distance between the nearest two points (at most a few hundred pairs: US × RU is 20 × 26). */
function nearestKm(a: Whereabouts, b: Whereabouts): number {
  let best = Infinity;
  for (const [lat1, lon1] of a.points) for (const [lat2, lon2] of b.points) best = Math.min(best, distanceKm(lat1, lon1, lat2, lon2));
  return best;
}
