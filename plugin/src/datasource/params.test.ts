import { fakeTemplateSrv } from './testing/fakeTemplateSrv';
import { filterParams, interpolateFilter, clampLimit } from './params';

describe('interpolateFilter', () => {
  const templateSrv = fakeTemplateSrv([
    { name: 'user', value: 'alice' },
    { name: 'users', value: ['alice', 'bob'], options: ['alice', 'bob', 'carol'] },
    { name: 'service', value: ['$__all'], options: ['portal', 'api'] },
    { name: 'country', value: '$__all', options: ['DE', 'FR'], allValue: '*' },
    { name: 'spaced', value: 'Jane Doe' },
  ]);

  it('passes a literal value through', () => {
    expect(interpolateFilter(templateSrv, 'alice')).toEqual(['alice']);
  });

  it('keeps a literal comma list as one value (the collector splits it)', () => {
    expect(interpolateFilter(templateSrv, 'login,mfa')).toEqual(['login,mfa']);
  });

  it('replaces a single-value variable in every syntax', () => {
    for (const text of ['$user', '${user}', '${user:raw}', '[[user]]']) {
      expect(interpolateFilter(templateSrv, text)).toEqual(['alice']);
    }
  });

  it('turns a multi-value variable into several values (repeated parameters)', () => {
    expect(interpolateFilter(templateSrv, '$users')).toEqual(['alice', 'bob']);
  });

  it('drops the filter when a variable is set to All, with or without a custom all value', () => {
    expect(interpolateFilter(templateSrv, '$service')).toBeUndefined();
    expect(interpolateFilter(templateSrv, '${country}')).toBeUndefined();
  });

  it('uses the repeated panel value from scopedVars even when the dashboard variable is All', () => {
    expect(interpolateFilter(templateSrv, '$service', { service: { text: 'api', value: 'api' } })).toEqual(['api']);
  });

  it('keeps spaces inside a value and ignores empty filters', () => {
    expect(interpolateFilter(templateSrv, '$spaced')).toEqual(['Jane Doe']);
    expect(interpolateFilter(templateSrv, '')).toBeUndefined();
    expect(interpolateFilter(templateSrv, '   ')).toBeUndefined();
    expect(interpolateFilter(templateSrv, undefined)).toBeUndefined();
  });

  it('leaves an unknown variable as typed, so the user sees what did not resolve', () => {
    expect(interpolateFilter(templateSrv, '$nosuch')).toEqual(['$nosuch']);
  });
});

describe('filterParams', () => {
  it('maps query fields to collector parameter names', () => {
    const templateSrv = fakeTemplateSrv([{ name: 'users', value: ['alice', 'bob'] }]);
    const params = filterParams(
      {
        refId: 'A',
        user: '$users',
        eventType: 'login',
        outcome: 'failure',
        reason: 'invalid_password',
        ip: '203.0.113.7',
        service: 'portal',
        country: 'DE',
        search: 'firefox',
      },
      templateSrv
    );
    expect(params).toEqual({
      user: ['alice', 'bob'],
      type: 'login',
      outcome: 'failure',
      reason: 'invalid_password',
      ip: '203.0.113.7',
      service: 'portal',
      country: 'DE',
      q: 'firefox',
    });
  });
});

describe('clampLimit', () => {
  it('caps at the collector maximum and falls back on nonsense', () => {
    expect(clampLimit(5000, 500)).toBe(1000);
    expect(clampLimit(0, 500)).toBe(500);
    expect(clampLimit(Number.NaN, 500)).toBe(500);
    expect(clampLimit(25.7, 500)).toBe(25);
  });
});
