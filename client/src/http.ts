// One JSON request to the collector with a hard deadline. Uses Node's built-in fetch (undici).

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface JsonRequest {
  method: 'GET' | 'POST';
  /** How errors name the request; a path that carries a session id must never appear in logs. */
  label?: string;
  key?: string;
  body?: unknown;
  timeoutMs: number;
}

export class CollectorHttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CollectorHttpError';
  }
}

export async function requestJson(baseUrl: string, path: string, req: JsonRequest): Promise<JsonResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.key) headers.authorization = `Bearer ${req.key}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(req.timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    const what = e.name === 'TimeoutError' ? `no answer within ${req.timeoutMs} ms` : e.message;
    throw new CollectorHttpError(`authwatch collector ${req.label ?? `${req.method} /${path}`}: ${what}`);
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, headers: res.headers, body };
}

/** Normalises a base URL so new URL('/v1/…', base) keeps any path prefix the operator configured. */
export function baseUrlOf(url: string): string {
  const u = new URL(url);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.toString();
}
