import { lastValueFrom } from 'rxjs';
import { getBackendSrv, isFetchError, type BackendSrvRequest } from '@grafana/runtime';

/** Query parameters; an array becomes a repeated parameter (the collector also accepts comma lists). */
export type Params = Record<string, string | number | string[] | undefined>;

export type CollectorErrorKind = 'unreachable' | 'unauthorized' | 'forbidden' | 'bad_request' | 'not_found' | 'server';

/** A failed collector call, classified so the UI can say what to fix. */
export class CollectorError extends Error {
  constructor(
    readonly kind: CollectorErrorKind,
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'CollectorError';
  }
}

export function toQueryString(params: Params): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') {
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      search.append(key, String(v));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function serverMessage(data: unknown): string | undefined {
  if (typeof data === 'string' && data.trim()) {
    return data.trim();
  }
  if (data && typeof data === 'object') {
    const record = data as Record<string, unknown>;
    for (const key of ['error', 'message']) {
      if (typeof record[key] === 'string' && record[key]) {
        return record[key] as string;
      }
    }
  }
  return undefined;
}

/**
 * Maps an HTTP failure seen through Grafana's data source proxy to a CollectorError.
 * The proxy answers 502 when it cannot reach the collector, rewrites the collector's 401 to
 * 400 "Authentication to data source failed", and answers 403 itself when the user's role is
 * below a route's reqRole.
 */
export function classifyFailure(status: number, data: unknown, what: string): CollectorError {
  const detail = serverMessage(data);
  const suffix = detail ? `: ${detail}` : '';
  if (status === 0 || status === 502 || status === 503 || status === 504) {
    return new CollectorError(
      'unreachable',
      status,
      `Authwatch collector unreachable (${status || 'network error'}) while ${what}; check the collector URL and that it is running${suffix}`
    );
  }
  if (status === 401 || (status === 400 && /authentication to data source failed/i.test(detail ?? ''))) {
    return new CollectorError('unauthorized', status, `The collector rejected the API key while ${what}${suffix}`);
  }
  if (status === 403) {
    const byGrafana = /plugin proxy route access denied/i.test(detail ?? '');
    return new CollectorError(
      'forbidden',
      status,
      byGrafana
        ? `Permission denied while ${what}: this action needs the Grafana Editor or Admin role`
        : `Permission denied while ${what}: the collector key lacks the needed role${suffix}`
    );
  }
  if (status === 404) {
    return new CollectorError('not_found', status, `Not found while ${what}${suffix}`);
  }
  if (status >= 400 && status < 500) {
    return new CollectorError('bad_request', status, `The collector refused the request while ${what}${suffix}`);
  }
  return new CollectorError('server', status, `Collector error ${status} while ${what}${suffix}`);
}

/**
 * Talks to the collector through Grafana's data source proxy (`<instance url>/read/...` for GET,
 * `<instance url>/admin/...` for actions). Going through getBackendSrv keeps every request visible
 * in the query inspector.
 */
export class CollectorClient {
  constructor(private readonly proxyUrl: string) {}

  readUrl(path: string, params: Params = {}): string {
    return `${this.proxyUrl}/read${path}${toQueryString(params)}`;
  }

  adminUrl(path: string): string {
    return `${this.proxyUrl}/admin${path}`;
  }

  get<T>(path: string, params: Params, what: string, requestId?: string): Promise<T> {
    return this.send<T>({ url: this.readUrl(path, params), method: 'GET', requestId }, what);
  }

  post<T>(path: string, what: string, body?: unknown): Promise<T> {
    return this.send<T>({ url: this.adminUrl(path), method: 'POST', data: body ?? {} }, what);
  }

  private async send<T>(options: BackendSrvRequest, what: string): Promise<T> {
    try {
      const response = await lastValueFrom(getBackendSrv().fetch<T>({ showErrorAlert: false, ...options }));
      return response.data;
    } catch (err) {
      if (isFetchError(err)) {
        throw classifyFailure(err.status ?? 0, err.data, what);
      }
      if (err instanceof Error) {
        throw new CollectorError('unreachable', 0, `Authwatch collector unreachable while ${what}: ${err.message}`);
      }
      throw err;
    }
  }
}
