import { SeverityNumber } from '@opentelemetry/api-logs';
import { blankEvent, INGEST_TYPES, SYSTEM_TYPES, type StoredEvent } from '../schema/stored-event';
import { attributesOf, toLogRecord } from './otel-log-record';

function ev(fields: Partial<StoredEvent> & Pick<StoredEvent, 'type'>): StoredEvent {
  return blankEvent({ id: 'x1', time: 1_700_000_000_000, user: 'alice', ...fields });
}

describe('toLogRecord', () => {
  test('every kind has a stable authwatch.<kind> event name and a non-empty body', () => {
    for (const type of [...INGEST_TYPES, ...SYSTEM_TYPES]) {
      const r = toLogRecord(ev({ type }));
      expect(r.eventName).toBe(`authwatch.${type}`);
      expect(typeof r.body === 'string' && r.body.includes('alice')).toBe(true);
    }
  });

  test.each([
    [{ type: 'login', outcome: 'success' }, SeverityNumber.INFO, 'alice logged in to shop'],
    [{ type: 'login', outcome: 'failure', reason: 'invalid_password' }, SeverityNumber.WARN, 'Login failed for alice to shop: invalid_password'],
    [{ type: 'session_end', reason: 'idle_timeout' }, SeverityNumber.INFO, 'Session of alice ended: idle_timeout'],
    [{ type: 'mfa', outcome: 'failure', reason: 'totp_timeout' }, SeverityNumber.WARN, 'MFA failed for alice: totp_timeout'],
    [{ type: 'lockout', attributes: { scope: 'user_ip' } }, SeverityNumber.WARN, 'Locked alice (scope user_ip)'],
    [{ type: 'detection', reason: 'credential_stuffing' }, SeverityNumber.ERROR, 'Detection credential_stuffing for alice'],
    [{ type: 'detection', reason: 'new_country' }, SeverityNumber.WARN, 'Detection new_country for alice'],
    [{ type: 'unlock', actor: 'ops-key' }, SeverityNumber.INFO, 'Unlocked alice by ops-key'],
  ] as const)('%j → severity %d, body "%s"', (fields, severity, body) => {
    const r = toLogRecord(ev({ service: 'shop', ...fields } as Partial<StoredEvent> & Pick<StoredEvent, 'type'>));
    expect(r.severityNumber).toBe(severity);
    expect(r.body).toBe(body);
  });

  test('times: event time as timestamp, acceptance time as observed', () => {
    const r = toLogRecord(ev({ type: 'login', time: 1000, received_at: 2000 }));
    expect(r.timestamp).toBe(1000);
    expect(r.observedTimestamp).toBe(2000);
  });
});

describe('attributesOf', () => {
  test('null fields are left out rather than sent empty', () => {
    expect(attributesOf(ev({ type: 'logout' }))).toEqual({
      'user.name': 'alice',
      'authwatch.event.id': 'x1',
      'authwatch.event.type': 'logout',
    });
  });

  test('custom attributes are prefixed; secret-looking keys are dropped', () => {
    const a = attributesOf(
      ev({ type: 'access', attributes: { tenant: 't1', count: 3, Password: 'p', api_key: 'k', 'x-auth-token': 't', sessionCookie: 'c' } }),
    );
    expect(a['authwatch.attr.tenant']).toBe('t1');
    expect(a['authwatch.attr.count']).toBe(3);
    expect(Object.keys(a).filter((k) => k.startsWith('authwatch.attr.'))).toEqual(['authwatch.attr.tenant', 'authwatch.attr.count']);
    expect(a.tenant).toBeUndefined();
  });
});
