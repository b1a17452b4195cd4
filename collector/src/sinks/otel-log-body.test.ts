// OTLP log bodies are text that log viewers render: user-supplied parts must not forge lines.
import { blankEvent } from '../schema/stored-event';
import { toLogRecord } from './otel-log-record';

test.each([
  ['login', { user: 'eve\nINFO bob logged in', outcome: 'failure', service: 'shop\r\nx' }, 'Login failed for eve\\nINFO bob logged in to shop\\r\\nx'],
  ['logout', { user: '\u001b[2Jeve', service: 'a\u2028b' }, '\\u001b[2Jeve logged out of a\\u2028b'],
  ['admin', { user: 'eve', reason: 'policy_update', actor: 'ops (grafana:\u202eevil)' }, 'Admin action policy_update on eve by ops (grafana:\\u202eevil)'],
] as const)('%s body escapes control characters', (type, fields, body) => {
  const r = toLogRecord(blankEvent({ id: 'x', time: 1, type, ...fields } as Parameters<typeof blankEvent>[0]));
  expect(r.body).toBe(body);
  expect(String(r.body)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  // Attributes keep the exact value (structured, not rendered as a line).
  expect(r.attributes?.['user.name']).toBe(fields.user);
});
