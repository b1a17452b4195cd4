// One sshd / PAM log line → what it says (family, role in a login attempt, user, address), without
// state. authlog-parse.ts turns these into attempts per connection. The families are fail2ban's
// stock sshd filter (every mode) plus older OpenSSH and legacy PAM spellings; the table with the
// event and reason of each is in docs/sources.md.
//
// Anchoring: every text the client controls (user name, protocol banner, disconnect message,
// algorithm offer, certificate id) is matched so that the address is the one sshd wrote, never a
// "from IP" typed into a user name: patterns whose address follows client text are anchored at
// the end of the line; patterns whose address precedes client text take the first. Where client
// text stands on both sides of the address (a certificate id after, a user name before), a line
// with more than one candidate is "ambiguous" and only an address the connection already showed
// elsewhere is used.
import { syslogTime, type TimeContext } from './authlog-time';

/** Where a line stands in a login attempt (see authlog-parse.ts). */
export type Role =
  | 'attempt' // one authentication attempt (count: rsyslog "message repeated N times")
  | 'lead' // describes the attempt the next "Failed …" line of the connection reports
  | 'trailer' // follows the attempt(s) of a connection; a failure only when the connection had none
  | 'catchup' // "PAM N more authentication failures": the connection had N + 1 in all
  | 'success'
  | 'logout'
  | 'info'; // no failure: an address, a connection start or end

/** Which fail2ban mode counts the family as a failure ('normal' = always on). */
export type Mode = 'normal' | 'ddos' | 'extra';

export interface LineHead {
  /** Epoch ms, NaN when the timestamp cannot be used. */
  time: number;
  host: string;
  pid: string;
  /** The raw line (or journald record) the event ids are derived from. */
  key: string;
}

export interface Classified {
  family: string;
  role: Role;
  mode: Mode;
  reason: string | null;
  user: string | null;
  /** The address as written: an IP, a host name, or null when the line carries none. */
  addr: string | null;
  /** More than one address candidate: the connection's known address is used if it is one of them. */
  candidates: string[] | null;
  port: string | null;
  entry: string | null;
  count: number;
  /** The connection ends with this line. */
  end: boolean;
  /** Set by classifyLine (null from classifyMessage). */
  head: LineHead | null;
}

const SYSLOG_HEAD = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) (sshd(?:-session|-auth)?|sshd\(pam_unix\))\[(\d+)\]: (.*)$/;
const ISO_HEAD = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})) (\S+) (sshd(?:-session|-auth)?|sshd\(pam_unix\))\[(\d+)\]: (.*)$/;
// journald hands lines over without a timestamp ("srv sshd[13709]: …"): receive time.
const BARE_HEAD = /^(?:(\S+) )?(sshd(?:-session|-auth)?|sshd\(pam_unix\))\[(\d+)\]: (.*)$/;

/** A line's head, with its program and message (one object: this runs for every sshd line). */
export interface HeadResult extends LineHead {
  program: string;
  msg: string;
}

/** Splits a line into its head (time, host, pid) and message; null when it is not sshd's. */
export function splitLine(line: string, ctx: TimeContext): HeadResult | null {
  let m = SYSLOG_HEAD.exec(line);
  if (m) return { time: stampTime(line, m, ctx), host: m[6], pid: m[8], key: line, program: m[7], msg: m[9] };
  const c = line.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    m = ISO_HEAD.exec(line);
    if (m) return { time: Date.parse(m[1]), host: m[2], pid: m[4], key: line, program: m[3], msg: m[5] };
    return null;
  }
  m = BARE_HEAD.exec(line);
  if (m) return { time: ctx.now, host: m[1] ?? '-', pid: m[3], key: line, program: m[2], msg: m[4] };
  return null;
}

// Consecutive lines mostly share their second: the last syslog stamp (15 characters) and its time.
let lastStamp = '';
let lastTime = NaN;
let lastCtx: TimeContext | null = null;

function stampTime(line: string, m: RegExpExecArray, ctx: TimeContext): number {
  if (ctx === lastCtx && line.startsWith(lastStamp) && lastTime === lastTime) return lastTime;
  const t = syslogTime(m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), ctx);
  lastCtx = ctx;
  lastStamp = line.slice(0, 15);
  lastTime = t;
  return t;
}

const REPEATED = /^message repeated (\d+) times: \[ ?(.*?) ?\]$/;
const PREFIX = /^(?:(?:error|fatal): )?(?:PAM: )?/;
const PREAUTH = ' [preauth]';

// "Failed" without anything after "sshN": the address is the last one (anchored at the end).
const FAILED = /^Failed (\S+) for (?:(invalid|illegal) user )?(.*) from (\S+) port (\d+) ssh\d?$/;
// With ": <key info>" after it (publickey, hostbased): the first; a second candidate makes it ambiguous.
const FAILED_INFO = /^Failed (\S+) for (?:(invalid|illegal) user )?(.*?) from (\S+) port (\d+) ssh\d?: (.*)$/;
const ACCEPTED = /^Accepted (\S+) for (\S+) from (\S+) port (\d+)(?: ssh\d?)?(?:: .*)?$/;
const INVALID_USER = /^(?:Invalid|Illegal) user (.*) from (\S+?)(?: port (\d+))?$/;
const AUTH_FAILURE = /^[aA]uthentication (?:failure|error|failed) for (?:(invalid|illegal) user )?(.*) from (\S+?)(?: via \S+)?$/;
const AUTH_REFUSED = /^Authentication refused: (?:bad ownership or modes for (?:file|directory) .*)$/;
const USER_NOT_KNOWN = /^User not known to the underlying authentication module for (?:(invalid|illegal) user )?(.*) from (\S+)$/;
const NOT_ALLOWED = /^User (\S+) from (\S+) not allowed because (.+)$/;
const NOT_ALLOWED_LOCAL = /^User (\S+) not allowed because (.+)$/;
const MAX_ATTEMPTS = /^maximum authentication attempts exceeded for (?:(invalid|illegal) user )?(.*) from (\S+?)(?: port (\d+))?(?: ssh\d?)?$/;
const TOO_MANY_OLD = /^Disconnecting: Too many authentication failures(?: for (?:(?:invalid|illegal) user )?(.*))?$/;
const TOO_MANY = /^Disconnecting (?:authenticating|invalid) user (.*) (\S+) port (\d+): Too many authentication failures$/;
const USER_CHANGE = /^Disconnecting(?: from)? (?:(authenticating)|invalid) user (.*?) (\S+) port (\d+): Change of username or service not allowed: /;
const USER_CHANGE_CANDIDATE = / (\S+) port (\d+): Change of username or service not allowed: /g;
const CLOSED_USER = /^(?:Connection closed|Connection reset|Disconnected) (?:by|from) (authenticating|invalid) user (.*) (\S+) port (\d+)$/;
const CLOSED_ANON = /^(?:Connection closed|Connection reset|Disconnected) (?:by|from) (\S+?)(?: port (\d+))?$/;
const DISCONNECTED_USER = /^Disconnected from user (\S+) (\S+) port (\d+)$/;
const RECEIVED_DISCONNECT = /^Received disconnect from (\S+) port (\d+):\s*(\d+): (.*)$/;
const RECEIVED_DISCONNECT_OLD = /^Received disconnect from (\S+): (\d+): (.*)$/;
const CONNECTION_FROM = /^Connection from (\S+) port (\d+)(?: on \S+ port \d+)?(?: rdomain .*)?$/;
const PAM_UNIX_AUTH = /^pam_[a-z]+\(sshd:auth\): authentication failure; (.*)$/;
const PAM_MORE = /^(?:PAM |pam_[a-z]+\(sshd:auth\): )?(\d+) more authentication failures?; (.*)$/;
const PAM_FIELDS = /^logname=\S* uid=\d* euid=\d* tty=\S* ruser=\S* rhost=(\S*)\s*(?:user=(.*?))?\s*$/;
const SESSION_CLOSED = /^pam_unix\(sshd:session\): session closed for user (\S+)/;
const LEGACY_SESSION_CLOSED = /^session closed for user (\S+)/;
const ROOT_REFUSED = /^ROOT LOGIN REFUSED FROM (\S+?)(?: port (\d+))?$/;
const REFUSED_CONNECT = /^refused connect from \S+ \((\S+)\)$/;
const NO_IDENT = /^Did not receive identification string from (\S+?)(?: port (\d+))?$/;
const KEX_IDENT = /^kex_exchange_identification: (?:read: )?(?:[Cc]lient sent invalid protocol identifier|[Cc]onnection closed by remote host|[Cc]onnection reset by peer)/;
const BAD_PROTOCOL = /^Bad protocol version identification '.*' from (\S+?)(?: port (\d+))?$/;
const BANNER_INVALID = /^banner exchange: Connection from (\S+?)(?: port (\d+))?: invalid format$/;
const SOCKET_RESET = /^Read from socket failed: Connection reset by peer$/;
const SSH_SERVER = /^SSH: Server;Ltype: (?:Authname|Version|Kex);Remote: (\S+)-(\d+);/;
const NEGOTIATE_WITH = /^Unable to negotiate with (\S+?)(?: port (\d+))?: no matching .+? found/;
const NEGOTIATE_A = /^Unable to negotiate a \S/;
const NO_MATCHING = /^no matching .+? found:/;
const FAILED_CANDIDATE = / from (\S+) port (\d+) ssh\d?(?=: |$)/g;

const ENTRY: Record<string, string> = { 'keyboard-interactive/pam': 'keyboard-interactive', 'keyboard-interactive/bsdauth': 'keyboard-interactive', 'keyboard-interactive': 'keyboard-interactive', password: 'password', publickey: 'publickey', hostbased: 'hostbased', 'gssapi-with-mic': 'gssapi', none: 'none' };

function c(family: string, role: Role, mode: Mode, reason: string | null, user: string | null, addr: string | null, port: string | null = null, end = false, entry: string | null = null, count = 1): Classified {
  // Every field in the literal (head too): one object shape, no property added later.
  return { family, role, mode, reason, user, addr, candidates: null, port, entry, count, end, head: null };
}

/** Every " from ADDR port N sshV" followed by ": " or the end: the address candidates of a Failed line. */
function failedCandidates(msg: string): string[] {
  const out: string[] = [];
  FAILED_CANDIDATE.lastIndex = 0;
  for (let m = FAILED_CANDIDATE.exec(msg); m; m = FAILED_CANDIDATE.exec(msg)) out.push(m[1]);
  return out;
}

function failedReason(method: string, invalid: boolean): string {
  if (invalid) return 'invalid_user';
  if (method === 'password' || method.startsWith('keyboard-interactive')) return 'invalid_password';
  if (method === 'publickey' || method === 'hostbased') return 'invalid_key';
  return 'auth_failed';
}

/** PAM's "logname= uid= euid= tty= ruser= rhost=H [user=U]": rhost is sshd's, user= comes last (a name with "rhost=" in it stays in the name). */
function pamFields(rest: string): { rhost: string | null; user: string | null } | null {
  const f = PAM_FIELDS.exec(rest);
  if (!f) return null;
  return { rhost: f[1] || null, user: f[2] || null };
}

/**
 * The message of one sshd line (head already split off) → its classification, or null when it
 * says nothing about a login (session opened, Postponed, subsystem requests…).
 */
export function classifyMessage(program: string, message: string): Classified | null {
  let msg = message;
  let count = 1;
  if (msg.charCodeAt(0) === 109 /* m */ && msg.startsWith('message repeated ')) {
    const rep = REPEATED.exec(msg);
    if (rep) {
      count = Math.min(Number(rep[1]), 1000);
      msg = rep[2];
    }
  }
  let ch = msg.charCodeAt(0);
  // "error: ", "fatal: ", "PAM: " (test the first letter before running the regex).
  if (ch === 101 || ch === 102 || ch === 80) {
    msg = msg.replace(PREFIX, '');
    ch = msg.charCodeAt(0);
  }
  const preauth = msg.endsWith(PREAUTH);
  if (preauth) msg = msg.slice(0, -PREAUTH.length);
  if (program === 'sshd(pam_unix)') return legacyPam(msg);
  let x: RegExpExecArray | null;
  switch (ch) {
    case 70: // F
      if ((x = FAILED.exec(msg))) {
        const invalid = x[2] !== undefined;
        if (x[1] === 'publickey' && !invalid) return c('failed_publickey', 'info', 'normal', null, x[3], x[4], x[5]);
        return c('failed', 'attempt', 'normal', failedReason(x[1], invalid), x[3], x[4], x[5], false, ENTRY[x[1]] ?? x[1], count);
      }
      if ((x = FAILED_INFO.exec(msg))) {
        const invalid = x[2] !== undefined;
        const cands = failedCandidates(msg);
        const r = invalid || x[1] !== 'publickey' ? c('failed', 'attempt', 'normal', failedReason(x[1], invalid), x[3], x[4], x[5], false, ENTRY[x[1]] ?? x[1], count) : c('failed_publickey', 'info', 'normal', null, x[3], x[4], x[5]);
        if (cands.length > 1) {
          r.addr = null;
          r.candidates = cands;
        }
        return r;
      }
      return null;
    case 65: // A
      if ((x = ACCEPTED.exec(msg))) return c('accepted', 'success', 'normal', null, x[2], x[3], x[4], false, ENTRY[x[1]] ?? x[1]);
      if ((x = AUTH_FAILURE.exec(msg))) return c('pam_auth_failure', 'lead', 'normal', x[1] ? 'invalid_user' : 'invalid_password', x[2], x[3], null, false, 'pam');
      if (AUTH_REFUSED.test(msg)) return c('auth_refused', 'lead', 'normal', 'key_refused_modes', null, null);
      return null;
    case 97: // a
      if ((x = AUTH_FAILURE.exec(msg))) return c('pam_auth_failure', 'lead', 'normal', x[1] ? 'invalid_user' : 'invalid_password', x[2], x[3], null, false, 'pam');
      return null;
    case 73: // I
      if ((x = INVALID_USER.exec(msg))) return c('invalid_user', 'lead', 'normal', 'invalid_user', x[1], x[2], x[3] ?? null);
      return null;
    case 85: // U
      if (msg.startsWith('User not known')) {
        if ((x = USER_NOT_KNOWN.exec(msg))) return c('pam_user_unknown', 'lead', 'normal', 'invalid_user', x[2], x[3], null, false, 'pam');
        return null;
      }
      if ((x = NOT_ALLOWED.exec(msg))) return c('not_allowed', 'lead', 'normal', 'user_not_allowed', x[1], x[2]);
      if ((x = NOT_ALLOWED_LOCAL.exec(msg))) return c('not_allowed_local', 'lead', 'normal', x[2] === 'account is locked' ? 'account_disabled' : 'user_not_allowed', x[1], null);
      if ((x = NEGOTIATE_WITH.exec(msg))) return c('negotiate', 'trailer', 'extra', 'negotiation_failed', null, x[1], x[2] ?? null, true);
      if (NEGOTIATE_A.test(msg)) return c('negotiate', 'trailer', 'extra', 'negotiation_failed', null, null, null, true);
      return null;
    case 109: // m
      if ((x = MAX_ATTEMPTS.exec(msg))) return c('max_attempts', 'trailer', 'normal', 'too_many_attempts', x[2], x[3], x[4] ?? null);
      return null;
    case 68: // D
      if ((x = TOO_MANY_OLD.exec(msg))) return c('too_many', 'trailer', 'normal', 'too_many_attempts', x[1] ?? null, null, null, true);
      if ((x = TOO_MANY.exec(msg))) return c('too_many', 'trailer', 'normal', 'too_many_attempts', x[1], x[2], x[3], true);
      if ((x = USER_CHANGE.exec(msg))) return userChange(msg, x);
      if (msg.startsWith('Disconnecting: Change of username or service not allowed')) return c('user_change', 'trailer', 'normal', 'user_change_refused', null, null, null, true);
      if ((x = DISCONNECTED_USER.exec(msg))) return preauth ? c('closed_user', 'trailer', 'normal', 'preauth_closed', x[1], x[2], x[3], true) : c('logout', 'logout', 'normal', 'logout', x[1], x[2], x[3], true);
      if ((x = CLOSED_USER.exec(msg))) return closedUser(x);
      if ((x = CLOSED_ANON.exec(msg))) return closedAnon(x, preauth);
      if ((x = NO_IDENT.exec(msg))) return c('no_identification', 'trailer', 'ddos', 'no_identification', null, x[1], x[2] ?? null, true);
      return null;
    case 67: // C
      if ((x = CLOSED_USER.exec(msg))) return closedUser(x);
      if ((x = CONNECTION_FROM.exec(msg))) return c('connection_from', 'info', 'normal', null, null, x[1], x[2]);
      if ((x = CLOSED_ANON.exec(msg))) return closedAnon(x, preauth);
      return null;
    case 82: // R
      if ((x = RECEIVED_DISCONNECT.exec(msg))) return receivedDisconnect(x[1], x[2], x[3], x[4]);
      if ((x = RECEIVED_DISCONNECT_OLD.exec(msg))) return receivedDisconnect(x[1], null, x[2], x[3]);
      if ((x = ROOT_REFUSED.exec(msg))) return c('root_refused', 'lead', 'normal', 'root_login_refused', 'root', x[1], x[2] ?? null);
      if (SOCKET_RESET.test(msg)) return c('socket_reset', 'trailer', 'ddos', 'connection_reset', null, null, null, true);
      return null;
    case 112: // p
      if ((x = PAM_UNIX_AUTH.exec(msg))) return pamAuth(x[1]);
      if ((x = SESSION_CLOSED.exec(msg))) return c('logout', 'logout', 'normal', 'logout', x[1], null);
      if ((x = PAM_MORE.exec(msg))) return pamMore(x[1], x[2]);
      return null;
    case 80: // P (after "PAM: " was stripped, "PAM N more" keeps its P)
      if ((x = PAM_MORE.exec(msg))) return pamMore(x[1], x[2]);
      return null;
    case 114: // r
      if ((x = REFUSED_CONNECT.exec(msg))) return c('refused_connect', 'attempt', 'normal', 'connection_refused', null, x[1]);
      return null;
    case 107: // k
      if (KEX_IDENT.test(msg)) return c('kex_identification', 'trailer', 'ddos', 'no_identification', null, null);
      return null;
    case 66: // B
      if ((x = BAD_PROTOCOL.exec(msg))) return c('bad_protocol', 'trailer', 'ddos', 'bad_protocol', null, x[1], x[2] ?? null, true);
      return null;
    case 98: // b
      if ((x = BANNER_INVALID.exec(msg))) return c('bad_protocol', 'trailer', 'ddos', 'bad_protocol', null, x[1], x[2] ?? null, true);
      return null;
    case 83: // S
      if ((x = SSH_SERVER.exec(msg))) return c('ssh_server', 'info', 'normal', null, null, x[1], x[2]);
      return null;
    case 110: // n
      if (NO_MATCHING.test(msg)) return c('negotiate', 'trailer', 'extra', 'negotiation_failed', null, null, null, true);
      return null;
    default:
      return null;
  }
}

function legacyPam(msg: string): Classified | null {
  let x: RegExpExecArray | null;
  if (msg.startsWith('authentication failure; ')) return pamAuth(msg.slice(24));
  if ((x = PAM_MORE.exec(msg))) return pamMore(x[1], x[2]);
  if ((x = LEGACY_SESSION_CLOSED.exec(msg))) return c('logout', 'logout', 'normal', 'logout', x[1], null);
  return null;
}

function pamAuth(rest: string): Classified | null {
  const f = pamFields(rest);
  if (!f) return null;
  return c('pam_unix_auth', 'lead', 'normal', 'invalid_password', f.user, f.rhost, null, false, 'pam');
}

function pamMore(n: string, rest: string): Classified | null {
  const f = pamFields(rest);
  if (!f) return null;
  return c('pam_more', 'catchup', 'normal', 'invalid_password', f.user, f.rhost, null, false, 'pam', Math.min(Number(n), 1000));
}

function closedUser(x: RegExpExecArray): Classified {
  const invalid = x[1] === 'invalid';
  return c('closed_user', 'trailer', 'normal', invalid ? 'invalid_user' : 'preauth_closed', x[2], x[3], x[4], true);
}

function closedAnon(x: RegExpExecArray, preauth: boolean): Classified {
  // Before authentication ([preauth]) it is a probe (fail2ban ddos); after it, the end of a session.
  return preauth ? c('closed_preauth', 'trailer', 'ddos', 'preauth_disconnect', null, x[1], x[2] ?? null, true) : c('closed', 'info', 'normal', null, null, x[1], x[2] ?? null, true);
}

function receivedDisconnect(addr: string, port: string | null, code: string, text: string): Classified {
  if (code === '3' && text.endsWith(': Auth fail')) return c('disconnect_auth_fail', 'trailer', 'normal', 'auth_failed', null, addr, port, true);
  if (code === '14' && /^No(?: supported)? authentication methods available/.test(text)) return c('no_auth_methods', 'trailer', 'extra', 'no_auth_methods', null, addr, port, true);
  return c('disconnect', 'info', 'normal', null, null, addr, port, true);
}

/** "Change of username…": client text on both sides of the address unless the user is a real account. */
function userChange(msg: string, x: RegExpExecArray): Classified {
  const r = c('user_change', 'trailer', 'normal', 'user_change_refused', x[2], x[3], x[4], true);
  if (x[1] === undefined) {
    const cands: string[] = [];
    USER_CHANGE_CANDIDATE.lastIndex = 0;
    for (let m = USER_CHANGE_CANDIDATE.exec(msg); m; m = USER_CHANGE_CANDIDATE.exec(msg)) cands.push(m[1]);
    if (cands.length > 1) {
      r.addr = null;
      r.user = null;
      r.candidates = cands;
    }
  }
  return r;
}

export type ClassifiedLine = Classified & { head: LineHead };

/** A whole line → head + classification, or null (not sshd, or nothing about a login). */
export function classifyLine(line: string, ctx: TimeContext): ClassifiedLine | null {
  if (line.indexOf('sshd') === -1) return null;
  const s = splitLine(line, ctx);
  if (!s) return null;
  const r = classifyMessage(s.program, s.msg) as ClassifiedLine | null;
  if (r) r.head = s;
  return r;
}
