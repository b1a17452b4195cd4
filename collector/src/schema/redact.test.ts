import { blankEvent } from './stored-event';
import { redact } from './redact';

test('hidden details include location evidence carried in detection attributes', () => {
  const detection = blankEvent({
    id: 'd1',
    time: 1,
    type: 'detection',
    user: 'alice',
    reason: 'impossible_travel',
    ip: '81.2.69.142',
    country: 'GB',
    attributes: { distance_km: 16991, speed_kmh: 16991, previous_country: 'AU', previous_city: 'Sydney', max_kmh: 1000 },
  });
  const shown = redact(detection);
  expect(shown.ip).toBeNull();
  expect(shown.country).toBeNull();
  // What remains still says what was detected, not where.
  expect(shown.attributes).toEqual({ max_kmh: 1000 });
  // The stored object is untouched.
  expect(detection.attributes?.previous_city).toBe('Sydney');
});
