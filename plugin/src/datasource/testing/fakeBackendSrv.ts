import { Observable, of, throwError } from 'rxjs';
import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';

/** What a fake route answers: a JSON body (status 200) or an HTTP failure as Grafana reports it. */
export type FakeAnswer = { status?: number; data: unknown } | { networkError: string };

export interface RecordedRequest {
  method: string;
  url: string;
  /** Path after the data source proxy prefix, e.g. `/read/events`. */
  path: string;
  params: URLSearchParams;
  data: unknown;
  requestId?: string;
}

/**
 * Stands in for getBackendSrv().fetch — the one boundary the data source talks through.
 * Routes are "METHOD /path" (path after the proxy prefix); unknown routes answer 404.
 */
export function fakeBackendSrv(proxyPrefix: string, routes: Record<string, FakeAnswer>) {
  const requests: RecordedRequest[] = [];
  const fetch = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> => {
    const url = new URL(options.url, 'http://grafana.test');
    const method = (options.method ?? 'GET').toUpperCase();
    const path = url.pathname.startsWith(proxyPrefix) ? url.pathname.slice(proxyPrefix.length) : url.pathname;
    requests.push({ method, url: options.url, path, params: url.searchParams, data: options.data, requestId: options.requestId });
    const answer = routes[`${method} ${path}`] ?? { status: 404, data: { message: 'Not found' } };
    if ('networkError' in answer) {
      return throwError(() => new TypeError(answer.networkError));
    }
    const status = answer.status ?? 200;
    if (status >= 400) {
      return throwError(() => ({ status, statusText: 'error', data: answer.data, config: options }));
    }
    return of({
      status,
      ok: true,
      data: answer.data as T,
      headers: new Headers(),
      redirected: false,
      statusText: 'OK',
      type: 'basic',
      url: options.url,
      config: options,
    } as FetchResponse<T>);
  };
  return { requests, backendSrv: { fetch } };
}
