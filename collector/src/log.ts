// Minimal structured logger: one JSON line per startup step, warning or error (never per request).
// Never pass a body, key, password or raw session id here.
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

// Characters a terminal or text log viewer acts on or renders deceptively. C0 controls (\n, \r,
// ESC…) and lone surrogates are escaped by JSON.stringify already; these it leaves raw: DEL, C1
// controls (U+009B is CSI on some terminals), line/paragraph separators, bidi overrides/isolates.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// Everything above plus C0 controls and lone surrogates, for plain text.
const UNSAFE_IN_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const hex = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text safe for one log line: \n, \r and \t as those two-character escapes, every other control,
 * bidi or line-separator character and lone surrogate as \uXXXX. Text from clients can then never
 * start a forged line or drive a terminal.
 */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE_IN_TEXT, (c) => NAMED[c] ?? hex(c));
}

/** JSON text with the characters above escaped too (still valid JSON, same value). */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, hex);
}

export function createLogger(stream: NodeJS.WritableStream = process.stderr, level: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const rank = { info: 0, warn: 1, error: 2, silent: 3 } as const;
  const write = (lvl: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return;
    stream.write(safeJson({ time: new Date().toISOString(), level: lvl, msg, ...fields }) + '\n');
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
