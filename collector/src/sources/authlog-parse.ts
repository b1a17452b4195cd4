// sshd / PAM auth.log line → request-side events (the same shape POST /v1/events takes; the
// source validates them with validateBatch like any other batch). Pure: no I/O, no state beyond
// the time context. Lines that are not about a login, a failure or a session end give null.
//
// Failures follow fail2ban's sshd filter (normal mode) line for line, with two deliberate
// differences (docs/sources.md): "message repeated N times: [ … ]" counts N failures, and
// "Connection closed by / Disconnected from authenticating user … [preauth]" is a failure
// (reason preauth_closed; fail2ban counts it only in its aggressive/ddos modes).
import { hash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IngestEvent } from '../schema/event';
import { offsetFunction, syslogTime, type TimeContext, type TimeZoneOption } from './authlog-time';

const SYSLOG_HEAD = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) (sshd(?:-session|-auth)?)\[(\d+)\]: (.*)$/;
const ISO_HEAD = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})) (\S+) (sshd(?:-session|-auth)?)\[(\d+)\]: (.*)$/;

const REPEATED = /^message repeated (\d+) times: \[ ?(.*?) ?\]$/;
const PREFIX = /^(?:(?:error|fatal): )?(?:PAM: )?/;

const FAILED = /^Failed (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)/;
const ACCEPTED = /^Accepted (\S+) for (\S+) from (\S+) port (\d+)/;
const INVALID_USER = /^(?:Invalid|Illegal) user (.*?) from (\S+?)(?: port (\d+))?(?: \[preauth\])?\s*$/;
const MAX_ATTEMPTS = /^maximum authentication attempts exceeded for (invalid user )?(.*?) from (\S+) port (\d+)/;
const PAM_AUTH_FAILURE = /^[aA]uthentication (?:failure|error|failed) for (?:(?:invalid|illegal) user )?(.*?) from (\S+)/;
const NOT_ALLOWED = /^User (\S+) from (\S+) not allowed because (.*?)(?: \[preauth\])?\s*$/;
const PREAUTH_CLOSED = /^(?:Connection closed by|Disconnected from) authenticating user (\S+) (\S+) port (\d+)(?: \[preauth\])?\s*$/;
const DISCONNECTED = /^Disconnected from user (\S+) (\S+) port (\d+)\s*$/;
const SESSION_CLOSED = /^pam_unix\(sshd:session\): session closed for user (\S+)/;

export interface AuthLogParseOptions {
  /** Zone of syslog timestamps without an offset (default: this process's zone). */
  timezone?: TimeZoneOption;
  /** Reference time for year inference (default: Date.now at each call). */
  now?: () => number;
}

export type AuthLogEvent = IngestEvent & { time: number };

const ENTRY: Record<string, string> = { 'keyboard-interactive/pam': 'keyboard-interactive', 'keyboard-interactive': 'keyboard-interactive', password: 'password', publickey: 'publickey', hostbased: 'hostbased', 'gssapi-with-mic': 'gssapi', none: 'none' };

function idOf(...parts: (string | number)[]): string {
  // One-shot crypto.hash: a third of createHash()'s cost, and this runs once per event.
  return 'sshd-' + hash('sha1', parts.join('\u0000'), 'base64url');
}

/** The user as sshd wrote it; an empty name (sshd logs "Invalid user  from …") becomes "(empty)". */
function userOf(u: string): string {
  return u === '' ? '(empty)' : u.slice(0, 256);
}

function ipOf(s: string): string | null {
  return isIP(s) ? s : null;
}

interface Header {
  time: number;
  host: string;
  pid: string;
}

/**
 * One line → its events (several for "message repeated N times"), or null when the line is not an
 * sshd login/failure/session-end line.
 */
export function parseAuthLogLine(line: string, ctx: TimeContext): AuthLogEvent[] | null {
  // Cheap reject first: most of a busy auth.log is cron, sudo, systemd-logind.
  if (line.indexOf('sshd') === -1) return null;
  let head: Header;
  let msg: string;
  let m = SYSLOG_HEAD.exec(line);
  if (m) {
    head = { time: syslogTime(m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), ctx), host: m[6], pid: m[8] };
    msg = m[9];
  } else {
    m = ISO_HEAD.exec(line);
    if (!m) return null;
    head = { time: Date.parse(m[1]), host: m[2], pid: m[4] };
    msg = m[5];
  }
  if (Number.isNaN(head.time)) return null;
  let times = 1;
  const rep = REPEATED.exec(msg);
  if (rep) {
    times = Math.min(Number(rep[1]), 1000);
    msg = rep[2];
  }
  const c = msg.charCodeAt(0);
  // "error: ", "fatal: ", "PAM: " prefixes (rare: test the first letter before running the regex).
  const one = eventOf(c === 101 || c === 102 || c === 80 ? msg.replace(PREFIX, '') : msg, head, line);
  if (!one) return null;
  if (times === 1) return [one];
  // Each repetition is its own attempt; ids stay deterministic so re-reading the file is idempotent.
  return Array.from({ length: times }, (_, k) => Object.assign({}, one, { id: idOf(line, k) }));
}

/**
 * One event, always the same object shape built in one literal: V8 keeps it fast (spreading a base
 * object and overriding a key cost ten times more, measured on 200k lines).
 */
function make(h: Header, id: string, type: 'login' | 'logout', outcome: 'success' | 'failure', reason: string | null, user: string, ip: string | null, entry: string | null, port: string | undefined, session: boolean): AuthLogEvent {
  return {
    id,
    time: h.time,
    type,
    outcome,
    reason,
    user: userOf(user),
    ip: ip === null ? null : ipOf(ip),
    entry,
    session_id: session ? `${h.host}/sshd[${h.pid}]` : null,
    service: 'sshd',
    attributes: port === undefined ? { host: h.host, pid: Number(h.pid) } : { host: h.host, pid: Number(h.pid), port: Number(port) },
  };
}

function eventOf(text: string, h: Header, line: string): AuthLogEvent | null {
  let x: RegExpExecArray | null;
  switch (text.charCodeAt(0)) {
    case 70: // F
      if ((x = FAILED.exec(text))) {
        const method = x[1];
        const invalid = x[2] !== undefined;
        // As fail2ban (publickey = nofail): clients offer several keys; a refused key is not an attack.
        if (method === 'publickey' && !invalid) return null;
        const reason = invalid ? 'invalid_user' : method === 'none' ? 'auth_failed' : method === 'publickey' ? 'invalid_key' : 'invalid_password';
        return make(h, idOf(line), 'login', 'failure', reason, x[3], x[4], ENTRY[method] ?? method, x[5], false);
      }
      return null;
    case 65: // A
      if ((x = ACCEPTED.exec(text))) return make(h, idOf(line), 'login', 'success', null, x[2], x[3], ENTRY[x[1]] ?? x[1], x[4], true);
      if ((x = PAM_AUTH_FAILURE.exec(text))) return make(h, idOf(line), 'login', 'failure', 'invalid_password', x[1], x[2], 'pam', undefined, false);
      return null;
    case 73: // I
      if ((x = INVALID_USER.exec(text))) return make(h, idOf(line), 'login', 'failure', 'invalid_user', x[1], x[2], null, x[3], false);
      return null;
    case 109: // m
      if ((x = MAX_ATTEMPTS.exec(text))) return make(h, idOf(line), 'login', 'failure', 'too_many_attempts', x[2], x[3], null, x[4], false);
      return null;
    case 97: // a
      if ((x = PAM_AUTH_FAILURE.exec(text))) return make(h, idOf(line), 'login', 'failure', 'invalid_password', x[1], x[2], 'pam', undefined, false);
      return null;
    case 85: // U
      if ((x = NOT_ALLOWED.exec(text))) return make(h, idOf(line), 'login', 'failure', 'user_not_allowed', x[1], x[2], null, undefined, false);
      return null;
    case 67: // C
    case 68: // D
      if ((x = PREAUTH_CLOSED.exec(text))) return make(h, idOf(line), 'login', 'failure', 'preauth_closed', x[1], x[2], null, x[3], false);
      // Same id as "session closed" for this sshd process: whichever line comes first is the logout.
      if ((x = DISCONNECTED.exec(text))) return make(h, endId(h), 'logout', 'success', 'logout', x[1], x[2], null, undefined, true);
      return null;
    case 112: // p
      if ((x = SESSION_CLOSED.exec(text))) return make(h, endId(h), 'logout', 'success', 'logout', x[1], null, null, undefined, true);
      return null;
    default:
      return null;
  }
}

/** One logout per sshd process and day, whichever of its end lines is read first. */
function endId(h: Header): string {
  return idOf('end', h.host, h.pid, Math.floor(h.time / 86_400_000));
}

/** A parser bound to a timezone and clock: line → events | null. */
export function createAuthLogParser(opts: AuthLogParseOptions = {}): (line: string) => AuthLogEvent[] | null {
  const offset = offsetFunction(opts.timezone);
  const now = opts.now ?? Date.now;
  return (line) => parseAuthLogLine(line, { now: now(), offset });
}
