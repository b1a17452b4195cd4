import { metricServices, NONE, OTHER, REASON_LABELS, SERVICE_CAP, ServiceLabels, Vocabulary } from './metrics-labels';

test('reason: codes of the reason registry, else other', () => {
  expect(REASON_LABELS.value('invalid_password')).toBe('invalid_password');
  expect(REASON_LABELS.value('too_many_failures')).toBe('too_many_failures');
  expect(REASON_LABELS.value('alice_smith_ssn_123')).toBe(OTHER);
  expect(REASON_LABELS.value(null)).toBe(NONE);
});

test('fixed vocabularies', () => {
  const v = new Vocabulary(['user', 'ip']);
  expect([v.value('user'), v.value('user_ip'), v.value(undefined)]).toEqual(['user', OTHER, NONE]);
});

describe('service without a configured list', () => {
  test.each(['payment-portal', 'sshd', 'admin_console', 'a'])('%j is its own label', (s) => {
    expect(new ServiceLabels(null).value(s)).toBe(s);
  });
  test.each([
    '203.0.113.99', '2001:db8::1', 'jane.doe@example.com', 'Payment-Portal', 'svc 1', 'x'.repeat(33), '1abc', 'user_5551234',
    'deadbeefcafe1234', 'svc"}', 'svc\n', '',
  ])('%j is other (or none when empty)', (s) => {
    expect(new ServiceLabels(null).value(s)).toBe(s === '' ? NONE : OTHER);
  });
  test(`at most ${SERVICE_CAP} distinct names; known ones keep their label`, () => {
    const labels = new ServiceLabels(null);
    const out = Array.from({ length: SERVICE_CAP + 10 }, (_, i) => labels.value(`svc-${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}`));
    expect(new Set(out.filter((v) => v !== OTHER)).size).toBe(SERVICE_CAP);
    expect(out.slice(SERVICE_CAP).every((v) => v === OTHER)).toBe(true);
    expect(labels.value(out[0])).toBe(out[0]);
  });
});

test('service with a configured list: exactly those names', () => {
  const labels = new ServiceLabels(metricServices({ AUTHWATCH_METRIC_SERVICES: ' billing , Portal.V2,,billing' }));
  expect([labels.value('billing'), labels.value('Portal.V2'), labels.value('payment-portal'), labels.value(null)]).toEqual(['billing', 'Portal.V2', OTHER, NONE]);
});

test('AUTHWATCH_METRIC_SERVICES: unset or blank = no list; a bad entry fails clearly', () => {
  expect(metricServices({})).toBeNull();
  expect(metricServices({ AUTHWATCH_METRIC_SERVICES: ' , ' })).toBeNull();
  expect(() => metricServices({ AUTHWATCH_METRIC_SERVICES: 'ok,bad name' })).toThrow(/"bad name" is not a usable service name/);
  expect(() => metricServices({ AUTHWATCH_METRIC_SERVICES: 'other' })).toThrow(/not "other" or "none"/);
  expect(() => metricServices({ AUTHWATCH_METRIC_SERVICES: 'a"b' })).toThrow(/usable/);
});
