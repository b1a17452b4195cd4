// Reason codes: open-ended snake_case, this table is guidance (served in the OpenAPI document and
// docs). It mirrors a payment portal's login-activity status table so operators
// find the codes they already know.

/** What a detection event's `reason` says it found (the metric label vocabulary too). */
export const DETECTION_KINDS = [
  'brute_force',
  'password_spray',
  'credential_stuffing',
  'impossible_travel',
  'new_device',
  'new_country',
] as const;
export type DetectionKind = (typeof DETECTION_KINDS)[number];

export interface ReasonCode {
  code: string;
  /** Event types the code is usual with. */
  types: string[];
  /** The portal's status/entry wording this code corresponds to. */
  portal: string;
  description: string;
}

export const REASON_CODES: ReasonCode[] = [
  { code: 'invalid_password', types: ['login'], portal: 'Invalid password', description: 'Wrong password for a known user.' },
  { code: 'invalid_user', types: ['login'], portal: 'Invalid user session / Invalid Company/User', description: 'Unknown user name.' },
  { code: 'invalid_company', types: ['login'], portal: 'Invalid company', description: 'Unknown tenant / company / merchant.' },
  { code: 'account_disabled', types: ['login'], portal: 'User Account Disabled', description: 'The user account is disabled.' },
  { code: 'merchant_disabled', types: ['login'], portal: 'Merchant Account Disabled', description: 'The tenant / merchant account is disabled.' },
  { code: 'ip_restricted', types: ['login'], portal: 'IP Login Restriction', description: 'Login refused by an IP allow-list.' },
  { code: 'missing_email', types: ['login', 'password_reset'], portal: 'Missing email', description: 'No e-mail address on file.' },
  { code: 'mfa_required', types: ['login', 'mfa'], portal: 'Valid credential. MFA required / Login requested MFA', description: 'Password ok, second factor requested.' },
  { code: 'mfa_success', types: ['login', 'mfa'], portal: 'Login successful MFA', description: 'Second factor accepted.' },
  { code: 'mfa_failed', types: ['login', 'mfa'], portal: 'Login failed MFA / Invalid MFA validation data', description: 'Second factor rejected.' },
  { code: 'mfa_locked', types: ['mfa'], portal: 'User locked due MFA', description: 'Locked after repeated second-factor failures.' },
  { code: 'totp_timeout', types: ['login', 'mfa'], portal: 'Login timeout TOTP', description: 'The one-time code expired before it was entered.' },
  { code: 'mfa_enrolled', types: ['mfa'], portal: 'MFA Enrolled', description: 'A second factor was enrolled.' },
  { code: 'mfa_enabled', types: ['mfa'], portal: 'MFA Enabled', description: 'MFA switched on for the user.' },
  { code: 'mfa_disabled', types: ['mfa'], portal: 'MFA Disabled', description: 'MFA switched off for the user.' },
  { code: 'mfa_reset', types: ['mfa'], portal: 'MFA Reset', description: 'The second factor was reset.' },
  { code: 'new_login', types: ['login', 'session_end'], portal: 'Membership login / Session ended by new login', description: 'Interactive login; as an end reason: ended by a newer login (single session).' },
  { code: 'mobile_login', types: ['login'], portal: 'Mobile Login', description: 'Login from the mobile app.' },
  { code: 'logout', types: ['logout', 'session_end'], portal: 'Completed session', description: 'The user logged out.' },
  { code: 'idle_timeout', types: ['session_end'], portal: 'Idle timeout', description: 'No activity for policy.idle_timeout_seconds.' },
  { code: 'ip_conflict', types: ['session_end'], portal: 'IP conflict', description: 'Activity from another IP while policy.session_ip_binding is on.' },
  { code: 'terminated_by_admin', types: ['session_end'], portal: '—', description: 'An administrator ended the session.' },
  { code: 'reset_successful', types: ['password_reset'], portal: 'Reset successful / Reset Password', description: 'Password reset completed.' },
  { code: 'password_changed', types: ['password_change'], portal: '—', description: 'The user changed the password.' },
  { code: 'report_download', types: ['access'], portal: 'Report download', description: 'A report was downloaded.' },
  { code: 'batch_upload', types: ['access'], portal: 'Batch file upload / Inventory upload', description: 'A batch file was uploaded.' },
  { code: 'recurring_billing', types: ['access'], portal: 'Recurring billing', description: 'Recurring-billing activity.' },
  { code: 'api_request', types: ['access'], portal: 'HTTPS request', description: 'An API call with the session.' },
  { code: 'attempt_expired', types: ['login'], portal: '—', description: 'Written by the collector: an attempt reserved by /v1/check was not settled within attempt_ttl_seconds; counted as a failure.' },
  { code: 'attempt_limit', types: ['login'], portal: '—', description: 'Reported by applications: /v1/check refused the attempt because enough attempts were already in flight. Stored, not counted.' },
  { code: 'user_locked', types: ['login'], portal: 'User locked', description: 'Reported by applications: /v1/check refused a locked user. Stored, not counted.' },
  { code: 'user_ip_locked', types: ['login'], portal: '—', description: 'Reported by applications: /v1/check refused a locked user+IP pair. Stored, not counted.' },
  { code: 'ip_blocked', types: ['login'], portal: '—', description: 'Reported by applications: /v1/check refused a blocked IP. Stored, not counted.' },
  { code: 'auth_failed', types: ['login'], portal: '—', description: 'sshd/PAM: an authentication failure without a more specific cause.' },
  { code: 'bad_protocol', types: ['login'], portal: '—', description: 'sshd: bad protocol version identification (scanners).' },
  { code: 'connection_refused', types: ['login'], portal: '—', description: 'sshd/tcpwrappers: refused connect from the address.' },
  { code: 'connection_reset', types: ['login'], portal: '—', description: 'sshd: connection reset or closed before authentication completed.' },
  { code: 'key_refused_modes', types: ['login'], portal: '—', description: 'sshd: public key refused (bad ownership or modes of authorized_keys).' },
  { code: 'negotiation_failed', types: ['login'], portal: '—', description: 'sshd: unable to negotiate a key exchange, cipher or host key (scanners).' },
  { code: 'no_auth_methods', types: ['login'], portal: '—', description: 'sshd: disconnected, no supported authentication methods available.' },
  { code: 'no_identification', types: ['login'], portal: '—', description: 'sshd: did not receive an identification string (port scans).' },
  { code: 'preauth_closed', types: ['login'], portal: '—', description: 'sshd: connection closed by the client during authentication.' },
  { code: 'preauth_disconnect', types: ['login'], portal: '—', description: 'sshd: received disconnect during authentication.' },
  { code: 'root_login_refused', types: ['login'], portal: '—', description: 'sshd: ROOT LOGIN REFUSED (PermitRootLogin).' },
  { code: 'too_many_attempts', types: ['login'], portal: '—', description: 'sshd: too many authentication failures / maximum attempts exceeded.' },
  { code: 'user_change_refused', types: ['login'], portal: '—', description: 'sshd: attempt to change the user during authentication.' },
  { code: 'user_not_allowed', types: ['login'], portal: '—', description: 'sshd: user not allowed because of AllowUsers/DenyUsers/shell/group rules.' },
  { code: 'too_many_failures', types: ['lockout'], portal: '—', description: 'Written by the collector: failed attempts exceeded the policy.' },
];

export function reasonTableMarkdown(): string {
  return [
    '| code | usual types | portal status | meaning |',
    '|---|---|---|---|',
    ...REASON_CODES.map((r) => `| \`${r.code}\` | ${r.types.join(', ')} | ${r.portal} | ${r.description} |`),
  ].join('\n');
}
