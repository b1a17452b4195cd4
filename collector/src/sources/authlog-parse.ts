// sshd / PAM lines → request-side events (the shape POST /v1/events takes; the source validates
// them with validateBatch like any other batch), counted per attempt, not per line.
//
// The rule (docs/sources.md, "Attempts, not lines"): the lines of one connection (host + sshd pid)
// that describe one failed authentication give one failure.
//   - "Failed <method> for …" is one attempt ("message repeated N times: [ Failed … ]" is N).
//   - Lines that announce the attempt the next "Failed" reports ("Invalid user", PAM's
//     "authentication failure", "User … not allowed because …", "ROOT LOGIN REFUSED") open it; the
//     "Failed" line completes it. If no "Failed" follows, the opened attempt is the failure.
//   - Lines that follow attempts ("maximum authentication attempts exceeded", "Disconnecting: Too
//     many authentication failures", "Connection closed by authenticating user … [preauth]",
//     "Received disconnect … Auth fail") are a failure only in a connection that had none.
//   - "PAM N more authentication failures" says the connection had N + 1: the missing ones are
//     added (legacy logs carry nothing else).
// State per connection: at most maxConnections (default 50,000; the longest-tracked is closed
// first), closed after connectionTimeoutMs (default 600 s) of log time without a line, or 10 s
// after the line that ends it (the "PAM N more" count comes right after the end).
// A connection's attempt still open when it is closed is emitted then.
import { hash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IngestEvent } from '../schema/event';
import { parseJournalLine } from './authlog-journal';
import { classifyLine, classifyMessage, type Classified, type ClassifiedLine, type LineHead } from './authlog-lines';
import { offsetFunction, type TimeContext, type TimeZoneOption } from './authlog-time';

/** fail2ban's sshd filter modes: which connection-level families (no user involved) are failures. */
export const AUTHLOG_MODES = ['normal', 'ddos', 'extra', 'aggressive'] as const;
export type AuthLogMode = (typeof AUTHLOG_MODES)[number];

export interface AuthLogParseOptions {
  /** Zone of syslog timestamps without an offset (default: this process's zone). */
  timezone?: TimeZoneOption;
  /** Reference time for year inference and receive time of lines without a timestamp (default Date.now). */
  now?: () => number;
  /** normal (default): as fail2ban's normal mode; ddos / extra / aggressive add its probe families. */
  mode?: AuthLogMode;
  /** Connections tracked at once (default 50,000). */
  maxConnections?: number;
  /** Log time without a line after which a connection is closed (default 600,000 ms). */
  connectionTimeoutMs?: number;
  /** Only `journalctl -o json` lines (other lines are counted as malformed); by default a line starting with "{" is one. */
  journal?: boolean;
  /** Tests: called for each event with the numbers (0-based, every line and record given to the parser) of the lines that made it. */
  trace?: (event: AuthLogEvent, lines: number[]) => void;
  /** Tests: a trailer or PAM count line that added no failure because its connection already had them. */
  traceAbsorbed?: (line: number) => void;
}

export type AuthLogEvent = IngestEvent & { time: number };

export interface AuthLogParserStats {
  /** sshd lines skipped because their time is unusable (dated ahead of this clock: wrong --authlog-tz?). */
  badTime: number;
  /** Attempts dropped: neither a user nor an address was ever seen for them. */
  dropped: number;
  /** Connections closed early because maxConnections was reached. */
  evicted: number;
  /** Lines that should have been journald JSON objects and were not. */
  malformed: number;
}

export interface AuthLogParser {
  /** One line → the events it completes (possibly of earlier lines of the same connection), or null. */
  (line: string): AuthLogEvent[] | null;
  /** A line already classified (classifyLine). */
  classified(l: ClassifiedLine): AuthLogEvent[] | null;
  /** One journald record (already split into head, program and message). */
  record(head: LineHead, program: string, message: string): AuthLogEvent[] | null;
  /** End of input: every open attempt becomes its event. */
  flush(): AuthLogEvent[];
  /** Live input gone quiet: attempts of connections without a line for idleMs of wall time. */
  expireIdle(wallNow: number, idleMs?: number): AuthLogEvent[];
  readonly stats: AuthLogParserStats;
  /** Connections currently tracked. */
  readonly tracked: number;
}

const ENABLED: Record<AuthLogMode, { ddos: boolean; extra: boolean }> = {
  normal: { ddos: false, extra: false },
  ddos: { ddos: true, extra: false },
  extra: { ddos: false, extra: true },
  aggressive: { ddos: true, extra: true },
};

/** The id of an event: a digest of the line it comes from (and its place among that line's events). */
function idOf(key: string, n?: string | number): string {
  // One-shot crypto.hash: a third of createHash()'s cost, and this runs once per event. A digest,
  // not a fast hash: log text is the attacker's, and a collision would drop a failure as a duplicate.
  return 'sshd-' + hash('sha1', n === undefined ? key : key + '\u0000' + n, 'base64url');
}

/** The user as sshd wrote it; an empty name (sshd logs "Invalid user  from …") becomes "(empty)". */
function userOf(u: string | null): string {
  if (u === null) return '(unknown)';
  return u === '' ? '(empty)' : u.slice(0, 256);
}

const HOST_NAME = /^(?=.{4,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)+\.?$/;

/** One spelling per address for comparing lines of a connection (IPv4-mapped IPv6 as IPv4). */
function ipOf(s: string): string | null {
  const v = isIP(s);
  if (v === 4) return s;
  if (v === 6) {
    const l = s.toLowerCase();
    return l.startsWith('::ffff:') && isIP(l.slice(7)) === 4 ? l.slice(7) : l;
  }
  return null;
}

const ENDED_KEEP_MS = 10_000;

// Which reason wins when lines of one attempt disagree: what a lead line says about the account
// beats "invalid_user", which beats the method's reason.
const PRECEDENCE: Record<string, number> = { root_login_refused: 3, account_disabled: 3, user_not_allowed: 3, invalid_user: 2 };

interface Open {
  time: number;
  key: string;
  families: string;
  reason: string | null;
  entry: string | null;
  user: string | null;
  port: string | null;
  /** Counts only if the connection ends without another failure (address-less probe, key refused for file modes). */
  weak: boolean;
  lines: number[] | null;
}

interface Conn {
  /** The map of its host, keyed by pid (the pid's text: hashing it is cheaper than Number()). */
  map: Map<string, Conn>;
  key: string;
  /** Closed: no longer in its map. */
  closed: boolean;
  host: string;
  pid: string;
  ip: string | null;
  hostName: string | null;
  port: string | null;
  user: string | null;
  seen: number;
  ordinal: number;
  open: Open | null;
  ended: boolean;
  /** Log time of its place in the Map (insertion order); refreshed lazily by expire(). */
  placed: number;
  lastTime: number;
  /** The parser's line count at its last line (expireIdle maps wall time to line counts). */
  lastSeq: number;
}

/** A parser bound to a timezone, clock and mode; keeps the per-connection state between lines. */
export function createAuthLogParser(opts: AuthLogParseOptions = {}): AuthLogParser {
  const offset = offsetFunction(opts.timezone);
  const now = opts.now ?? Date.now;
  const enabled = ENABLED[opts.mode ?? 'normal'];
  if (!enabled) throw new Error(`unknown mode "${opts.mode}": use ${AUTHLOG_MODES.join(', ')}`);
  const maxConns = opts.maxConnections ?? 50_000;
  const timeoutMs = opts.connectionTimeoutMs ?? 600_000;
  const trace = opts.trace;
  const absorbed = opts.traceAbsorbed;
  // Per host, connections by pid: a number key hashes fast (a "host\0pid" string cost a concatenation
  // and a hash per line). Most logs have one host: the last host's map is kept at hand.
  const hosts = new Map<string, Map<string, Conn>>();
  let lastHost: string | null = null;
  let lastMap = new Map<string, Conn>();
  let tracked = 0;
  // (wall time, line count) every expireIdle call: which lines are older than idleMs.
  const marks: { wall: number; seq: number }[] = [];
  const stats: AuthLogParserStats = { badTime: 0, dropped: 0, evicted: 0, malformed: 0 };
  const journalOnly = opts.journal === true;
  let newest = -Infinity;
  let nextExpiry = -Infinity;
  let out: AuthLogEvent[] = [];
  let seq = -1;

  function emit(e: AuthLogEvent, lines: number[] | null): void {
    out.push(e);
    if (trace) trace(e, lines ?? []);
  }

  function attributes(conn: Conn, port: string | null): Record<string, string | number> {
    const a: Record<string, string | number> = { host: conn.host, pid: Number(conn.pid) };
    const p = port ?? conn.port;
    if (p !== null) a.port = Number(p);
    if (conn.hostName !== null) a.host_name = conn.hostName;
    return a;
  }

  function failure(conn: Conn, time: number, id: string, reason: string | null, user: string | null, entry: string | null, port: string | null): AuthLogEvent {
    return {
      id,
      time,
      type: 'login',
      outcome: 'failure',
      reason,
      user: userOf(user ?? conn.user),
      ip: conn.ip,
      entry,
      session_id: null,
      service: 'sshd',
      attributes: attributes(conn, port),
    };
  }

  function emitOpen(conn: Conn): void {
    const o = conn.open;
    if (!o) return;
    conn.open = null;
    if (conn.ip === null && conn.hostName === null && o.user === null && conn.user === null) {
      stats.dropped++;
      return;
    }
    conn.seen++;
    emit(failure(conn, o.time, idOf(o.key, conn.ordinal++), o.reason, o.user, o.entry, o.port), o.lines);
  }

  function openFrom(l: Classified, h: LineHead, weak: boolean): Open {
    return { time: h.time, key: h.key, families: l.family, reason: l.reason, entry: l.entry, user: l.user, port: l.port, weak, lines: trace ? [seq] : null };
  }

  function merge(o: Open, l: Classified, h: LineHead): void {
    if (!o.families.includes(l.family)) o.families += ' ' + l.family;
    if ((PRECEDENCE[l.reason ?? ''] ?? 1) > (PRECEDENCE[o.reason ?? ''] ?? 1)) o.reason = l.reason;
    // The "Failed" line knows the method; PAM lines only say "pam".
    if (l.role === 'attempt' && l.entry !== null) o.entry = l.entry;
    else o.entry ??= l.entry;
    if (l.role === 'attempt' && l.user !== null) o.user = l.user;
    else o.user ??= l.user;
    o.port ??= l.port;
    if (o.lines) o.lines.push(seq);
  }

  function close(conn: Conn): void {
    emitOpen(conn);
    if (conn.closed) return;
    conn.closed = true;
    conn.map.delete(conn.key);
    tracked--;
    // Host names are the log's text (a syslog relay takes them from the sender): no empty map stays.
    if (conn.map.size === 0) {
      hosts.delete(conn.host);
      if (lastMap === conn.map) lastHost = null;
    }
  }

  // Ended connections in the order they ended: kept ENDED_KEEP_MS more, for the lines that follow an end.
  let endedQ: (Conn | null)[] = [];
  let endedAt = 0;
  function end(conn: Conn): void {
    if (conn.ended) return;
    conn.ended = true;
    endedQ.push(conn);
  }

  function dropEnded(): void {
    const limit = newest - ENDED_KEEP_MS;
    while (endedAt < endedQ.length) {
      const conn = endedQ[endedAt]!;
      // Still the ended connection it was (a restart replaced it, or it was closed already: skip).
      if (conn.ended && !conn.closed) {
        if (conn.lastTime >= limit) break;
        close(conn);
      }
      // Not kept alive by the queue: short-lived state should die young (GC showed in profiles).
      endedQ[endedAt++] = null;
    }
    if (endedAt > 4096 && endedAt * 2 > endedQ.length) {
      endedQ = endedQ.slice(endedAt);
      endedAt = 0;
    }
  }

  function mapOf(host: string): Map<string, Conn> {
    if (host === lastHost) return lastMap;
    let m = hosts.get(host);
    if (!m) hosts.set(host, (m = new Map()));
    lastHost = host;
    lastMap = m;
    return m;
  }

  function newConn(map: Map<string, Conn>, key: string, h: LineHead): Conn {
    const conn: Conn = { map, key, closed: false, host: h.host, pid: h.pid, ip: null, hostName: null, port: null, user: null, seen: 0, ordinal: 0, open: null, ended: false, placed: h.time, lastTime: h.time, lastSeq: seq };
    map.set(key, conn);
    if (++tracked > maxConns) {
      // The longest-tracked of this host (or of the first host that has any).
      let from = map.size > 1 ? map : undefined;
      if (!from) for (const m of hosts.values()) if (m.size && m !== map) from = m;
      const oldest = from?.values().next().value;
      if (oldest) {
        stats.evicted++;
        close(oldest);
      }
    }
    return conn;
  }

  // The Map is in order of placement; a connection active since it was placed is moved to the end
  // when it reaches the front, not on every line (re-inserting per line churned the Map).
  function expire(): void {
    const limit = newest - timeoutMs;
    for (const map of hosts.values()) {
      for (const conn of map.values()) {
        if (conn.placed >= limit) break;
        if (conn.lastTime < limit) close(conn);
        else {
          map.delete(conn.key);
          conn.placed = conn.lastTime;
          map.set(conn.key, conn);
        }
      }
    }
  }

  function line(l: Classified, h: LineHead): void {
    if (!(h.time === h.time)) {
      stats.badTime++;
      return;
    }
    if (h.time > newest) {
      newest = h.time;
      if (endedAt < endedQ.length) dropEnded();
      // Every 5 s of log time is precise enough for a 600 s timeout (and ms-precise times would run it per line).
      if (newest >= nextExpiry) {
        nextExpiry = newest + 5000;
        expire();
      }
    }
    let role = l.role;
    if ((l.mode === 'ddos' && !enabled.ddos) || (l.mode === 'extra' && !enabled.extra)) role = 'info';
    const map = mapOf(h.host);
    const key = h.pid;
    let conn = map.get(key);
    if (conn) {
      if (h.time > conn.lastTime) conn.lastTime = h.time;
      conn.lastSeq = seq;
    }

    let addr = l.addr;
    if (l.candidates !== null) addr = conn?.ip && l.candidates.includes(conn.ip) ? conn.ip : null;
    // The connection's address again (most lines): already checked.
    const ip = addr === null ? null : conn !== undefined && addr === conn.ip ? addr : ipOf(addr);
    const hostName = addr !== null && ip === null && HOST_NAME.test(addr) ? addr.toLowerCase() : null;

    if (conn) {
      // A new connection on a reused pid: a start line, another address, or a new attempt after the end.
      const restart =
        l.family === 'connection_from' ||
        (ip !== null && conn.ip !== null && ip !== conn.ip) ||
        (conn.ended && (role === 'attempt' || role === 'lead' || role === 'success'));
      if (restart) {
        close(conn);
        conn = undefined;
      }
    }
    // (mapOf again: closing the replaced connection may have dropped its host's empty map)
    conn ??= newConn(mapOf(h.host), key, h);
    if (ip !== null) conn.ip = ip;
    if (hostName !== null) conn.hostName = hostName;
    if (l.port !== null) conn.port = l.port;
    if (l.user !== null && role !== 'info') conn.user = l.user;

    switch (role) {
      case 'info':
        if (l.end) {
          // The line that names the address completes a probe waiting for it.
          if (conn.open?.lines) conn.open.lines.push(seq);
          emitOpen(conn);
          end(conn);
        }
        return;
      case 'lead': {
        const o = conn.open;
        const weak = l.family === 'auth_refused';
        if (o?.weak) {
          // A real attempt replaces a weak one; another weak line joins it.
          if (!weak) conn.open = null;
        } else if (o?.families.includes(l.family)) emitOpen(conn); // the same kind again: a new attempt
        if (conn.open) merge(conn.open, l, h);
        else conn.open = openFrom(l, h, weak);
        return;
      }
      case 'attempt': {
        let n = l.count;
        if (conn.open?.weak) conn.open = null;
        if (conn.open) {
          merge(conn.open, l, h);
          emitOpen(conn);
          n--;
        }
        for (let k = 0; k < n; k++) {
          // The common case (a Failed line on its own): straight to its event, no Open in between.
          conn.seen++;
          emit(failure(conn, h.time, idOf(h.key, conn.ordinal++), l.reason, l.user, l.entry, l.port), trace ? [seq] : null);
        }
        return;
      }
      case 'trailer': {
        if (conn.open) {
          merge(conn.open, l, h);
          // An address-less probe waits for the line that names the address.
          if (!(conn.open.weak && conn.ip === null && conn.hostName === null)) emitOpen(conn);
        } else if (conn.seen === 0) {
          conn.open = openFrom(l, h, true);
          if (conn.ip !== null || conn.hostName !== null) emitOpen(conn);
        } else absorbed?.(seq);
        if (l.end) end(conn);
        return;
      }
      case 'catchup': {
        if (conn.open?.weak) conn.open = null;
        emitOpen(conn);
        const missing = l.count + 1 - conn.seen;
        if (missing <= 0) absorbed?.(seq);
        for (let k = 0; k < missing; k++) {
          conn.seen++;
          emit(failure(conn, h.time, idOf(h.key + '\u0000more', k), l.reason, l.user, l.entry, null), trace ? [seq] : null);
        }
        return;
      }
      case 'success': {
        if (conn.open?.weak) conn.open = null;
        emitOpen(conn);
        emit(
          {
            id: idOf(h.key),
            time: h.time,
            type: 'login',
            outcome: 'success',
            reason: null,
            user: userOf(l.user),
            ip,
            entry: l.entry,
            session_id: `${h.host}/sshd[${h.pid}]`,
            service: 'sshd',
            attributes: attributes(conn, l.port),
          },
          trace ? [seq] : null,
        );
        return;
      }
      case 'logout': {
        emitOpen(conn);
        end(conn);
        // Same id for "Disconnected from user" and "session closed" of one sshd process: whichever comes first is the logout.
        emit(
          {
            id: idOf(`end\u0000${h.host}\u0000${h.pid}`, Math.floor(h.time / 86_400_000)),
            time: h.time,
            type: 'logout',
            outcome: 'success',
            reason: 'logout',
            user: userOf(l.user),
            ip,
            entry: null,
            session_id: `${h.host}/sshd[${h.pid}]`,
            service: 'sshd',
            attributes: l.port === null ? { host: h.host, pid: Number(h.pid) } : { host: h.host, pid: Number(h.pid), port: Number(l.port) },
          },
          trace ? [seq] : null,
        );
        return;
      }
    }
  }

  function take(): AuthLogEvent[] | null {
    if (out.length === 0) return null;
    const r = out;
    out = [];
    return r;
  }

  const ctx: TimeContext = { now: 0, offset };
  const parse = ((text: string) => {
    seq++;
    ctx.now = now();
    if (text.charCodeAt(0) === 123 /* { */) {
      const r = parseJournalLine(text, ctx.now);
      if (r === 'malformed') stats.malformed++;
      else if (r !== null) {
        const l = classifyMessage(r.program, r.message);
        if (l) line(l, r.head);
      }
      return take();
    }
    if (journalOnly) {
      stats.malformed++;
      return null;
    }
    const l = classifyLine(text, ctx);
    if (l) line(l, l.head);
    return take();
  }) as AuthLogParser;
  parse.classified = (l) => {
    seq++;
    line(l, l.head);
    return take();
  };
  parse.record = (head, program, message) => {
    seq++;
    const l = classifyMessage(program, message);
    if (l) line(l, head);
    return take();
  };
  parse.flush = () => {
    for (const map of hosts.values()) for (const conn of [...map.values()]) close(conn);
    return take() ?? [];
  };
  parse.expireIdle = (wallNow, idleMs = 10_000) => {
    marks.push({ wall: wallNow, seq });
    // The last line count at least idleMs old: connections whose last line is not after it are idle.
    let idleSeq = -1;
    while (marks.length && marks[0].wall <= wallNow - idleMs) idleSeq = marks.shift()!.seq;
    if (idleSeq >= 0) {
      marks.unshift({ wall: wallNow - idleMs, seq: idleSeq });
      for (const map of hosts.values()) for (const conn of map.values()) if (conn.open !== null && conn.lastSeq <= idleSeq) emitOpen(conn);
    }
    return take() ?? [];
  };
  Object.defineProperty(parse, 'stats', { value: stats });
  Object.defineProperty(parse, 'tracked', { get: () => tracked });
  return parse;
}

/** One line on its own (no connection before or after it) → its events. */
export function parseAuthLogLine(line: string, ctx: TimeContext, opts: Omit<AuthLogParseOptions, 'now' | 'timezone'> = {}): AuthLogEvent[] | null {
  const l = classifyLine(line, ctx);
  if (!l) return null;
  const p = createAuthLogParser({ ...opts, now: () => ctx.now });
  const events = [...(p.classified(l) ?? []), ...p.flush()];
  return events.length ? events : null;
}
