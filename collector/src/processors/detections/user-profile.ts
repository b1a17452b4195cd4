// new_device, new_country and impossible_travel: all three compare a successful login with what
// the user did before, so they share one durable profile per user (tx state "detect.profile"),
// read and written once per user per batch. Profiles live in the store, so every replica sees the
// same history and a restart forgets nothing.
import type { Processor } from '../../pipeline';
import type { StoredEvent } from '../../schema/stored-event';
import type { DetectionConfig } from './config';
import { detectionEvent, isLoginAttempt } from './detection-event';
import { distanceKm } from './geo-distance';
import { round } from './password-spray';

export const PROFILE_NAMESPACE = 'detect.profile';

interface LocatedLogin {
  t: number;
  lat: number;
  lon: number;
  country: string | null;
  city: string | null;
}

export interface UserProfile {
  /** Successful logins that carried a device fingerprint / a country. */
  device_logins: number;
  country_logins: number;
  /** Most recent first, distinct, capped. */
  devices: string[];
  countries: string[];
  /** The latest successful login that had coordinates. */
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
        if (e.latitude === null || e.longitude === null) return false;
        const prev = p.last_located;
        // Same coordinates (same city record) is the common case: no trigonometry for it.
        const same = prev !== null && prev.lat === e.latitude && prev.lon === e.longitude;
        const km = prev && !same ? distanceKm(prev.lat, prev.lon, e.latitude, e.longitude) : 0;
        let changed = false;
        if (!prev || (e.time >= prev.t && (km >= 1 || e.time - prev.t >= LOCATION_REFRESH_MS))) {
          p.last_located = { t: e.time, lat: e.latitude, lon: e.longitude, country: e.country, city: e.city };
          changed = true;
        }
        // Below this distance IP geolocation error dominates (same metro, same ISP hub).
        if (!prev || km < travel.minKm) return changed;
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
            previous_country: prev.country ?? '',
            previous_city: prev.city ?? '',
          }),
        );
        return true;
      }
    },
  };
}
