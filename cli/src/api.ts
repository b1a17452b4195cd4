// Talking to a collector: where it is (AUTHWATCH_URL / --url), which key (AUTHWATCH_KEY / --key,
// AUTHWATCH_INGEST_KEY for the ingest-only endpoints), and every failure turned into a message and
// an exit code scripts can branch on (docs/cli.md, "Exit codes").

export const EXIT = {
  OK: 0,
  /** The collector failed (5xx), answered something unexpected, or an import had refused events. */
  ERROR: 1,
  /** The command line (or a value in it) is wrong; also a 400 from the collector. */
  USAGE: 2,
  /** Not found (no such user/session), refused (401/403/409), or `check` said "not allowed". */
  REFUSED: 3,
  /** The collector could not be reached. */
  CONNECT: 4,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface Connection {
  url: string;
  /** Read/admin key (AUTHWATCH_KEY). */
  key: string | undefined;
  /** Key for POST /v1/events and /v1/check (an ingest key; AUTHWATCH_INGEST_KEY, else the key). */
  ingestKey: string | undefined;
  timeoutMs: number;
}

export interface GlobalOptions {
  url?: string;
  key?: string;
  timeout?: string;
}

/** Flags win over the environment. */
export function connectionFrom(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Connection {
  const raw = opts.url ?? env.AUTHWATCH_URL ?? 'http://127.0.0.1:4600';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`--url / AUTHWATCH_URL "${raw.slice(0, 80)}" is not a URL (e.g. http://127.0.0.1:4600)`, EXIT.USAGE);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`--url / AUTHWATCH_URL must be http:// or https://, got ${url.protocol}`, EXIT.USAGE);
  const timeout = Number(opts.timeout ?? env.AUTHWATCH_TIMEOUT ?? 30);
  if (!(timeout > 0)) throw new CliError(`--timeout must be a positive number of seconds`, EXIT.USAGE);
  const key = opts.key ?? (env.AUTHWATCH_KEY || undefined);
  return {
    url: url.toString().replace(/\/$/, ''),
    key,
    ingestKey: opts.key ?? (env.AUTHWATCH_INGEST_KEY || undefined) ?? key,
    timeoutMs: timeout * 1000,
  };
}

export type Query = Record<string, string | number | boolean | undefined | null | Array<string | number>>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Which key: read/admin (default) or ingest. */
  role?: 'key' | 'ingest';
  /** What a 404 means here, e.g. "no such user: bob". */
  notFound?: string;
  /** How errors name the request (default "METHOD /path"). */
  what?: string;
}

/** Only parameters that have a value (the collector refuses unknown or empty ones). */
export function queryString(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length) p.set(k, v.join(','));
    } else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function connectError(conn: Connection, err: unknown): CliError {
  const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new CliError(`cannot connect to the collector at ${conn.url}: no answer within ${conn.timeoutMs / 1000} s`, EXIT.CONNECT);
  const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return new CliError(`cannot connect to the collector at ${conn.url} (${why}): is it running? (authwatch serve; --url / AUTHWATCH_URL)`, EXIT.CONNECT);
}

/** A non-2xx answer as a CliError with the collector's own message. */
export async function httpError(res: Response, what: string, notFound?: string): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let msg = text.slice(0, 500);
  let details: Array<{ path?: string; message?: string }> = [];
  try {
    const j = JSON.parse(text) as { error?: string; details?: typeof details };
    msg = j.error ?? msg;
    details = Array.isArray(j.details) ? j.details : [];
  } catch {
    // not JSON: keep the text
  }
  const lines = details.slice(0, 10).map((d) => `${d.path || 'body'}: ${d.message ?? ''}`).filter((l) => !msg.includes(l));
  const more = lines.length ? '\n' + lines.map((l) => `  ${l}`).join('\n') : '';
  switch (res.status) {
    case 400:
      return new CliError(`${what}: the collector refused it: ${msg}${more}`, EXIT.USAGE);
    case 401:
      return new CliError(`${what}: no valid key (401): set AUTHWATCH_KEY or pass --key`, EXIT.REFUSED);
    case 403:
      return new CliError(`${what}: this key may not do that (403: ${msg})`, EXIT.REFUSED);
    case 404:
      return new CliError(notFound ?? `${what}: not found (${msg})`, EXIT.REFUSED);
    case 409:
      return new CliError(`${what}: ${msg}`, EXIT.REFUSED);
    default:
      return new CliError(`${what}: the collector answered HTTP ${res.status}: ${msg}`, EXIT.ERROR);
  }
}

/** fetch with the key and timeout; connection failures become exit code 4. */
export async function send(conn: Connection, method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const key = opts.role === 'ingest' ? conn.ingestKey : conn.key;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  // Every write is JSON, with or without a body (the collector refuses other writes: CSRF).
  if (method !== 'GET' && method !== 'HEAD') headers['content-type'] = 'application/json';
  try {
    return await fetch(conn.url + path + queryString(opts.query), { method, headers, body, signal: AbortSignal.timeout(conn.timeoutMs) });
  } catch (err) {
    throw connectError(conn, err);
  }
}

/** A JSON request that must succeed (2xx). */
export async function call<T>(conn: Connection, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(conn, method, path, opts);
  if (!res.ok) throw await httpError(res, opts.what ?? `${method} ${path}`, opts.notFound);
  try {
    return (await res.json()) as T;
  } catch {
    throw new CliError(`${method} ${path}: the answer is not JSON (is ${conn.url} an Authwatch collector?)`, EXIT.ERROR);
  }
}
