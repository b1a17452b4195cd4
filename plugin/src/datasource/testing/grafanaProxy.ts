import { Observable } from 'rxjs';
import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import pluginJson from '../plugin.json';
import { http } from './http';

export type OrgRole = 'Viewer' | 'Editor' | 'Admin';

interface Route {
  path: string;
  method?: string;
  reqRole?: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

export interface ProxyDataSource {
  uid: string;
  jsonData: Record<string, unknown>;
  secureJsonData: Record<string, string>;
}

export interface ProxyUser {
  login: string;
  role: OrgRole;
}

const RANK: Record<OrgRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

function fill(template: string, ds: ProxyDataSource): string {
  return template.replace(/\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g, (_m, kind: string, key: string) => {
    const value = kind === 'JsonData' ? ds.jsonData[key] : ds.secureJsonData[key];
    // Go's text/template prints a missing map key as "<no value>".
    return value === undefined ? '<no value>' : String(value);
  });
}

/** Grafana's util.JoinURLFragments: exactly one slash between the route URL and the rest of the path. */
export function joinUrlFragments(a: string, b: string): string {
  if (b === '') {
    return a;
  }
  const aSlash = a.endsWith('/');
  const bSlash = b.startsWith('/');
  if (aSlash && bSlash) {
    return a + b.slice(1);
  }
  return aSlash || bSlash ? a + b : `${a}/${b}`;
}

function failure<T>(options: BackendSrvRequest, status: number, data: unknown): Observable<FetchResponse<T>> {
  return new Observable((subscriber) => subscriber.error({ status, data, config: options }));
}

/**
 * getBackendSrv().fetch as Grafana's data source proxy behaves for this plugin's routes, doing real
 * HTTP to the collector: first route whose method matches and whose path is a prefix, reqRole
 * checked (403 "plugin proxy route access denied"), templates filled from the data source's
 * settings, X-Grafana-User added when send_user_header is on, a collector 401 turned into
 * 400 "Authentication to data source failed", an unreachable collector into 502.
 */
export function grafanaProxyFetch(ds: ProxyDataSource, user: ProxyUser, sendUserHeader = false) {
  const routes = pluginJson.routes as Route[];
  const prefix = `/api/datasources/proxy/uid/${ds.uid}/`;
  const fetch = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> => {
    const method = (options.method ?? 'GET').toUpperCase();
    const url = new URL(options.url, 'http://grafana.invalid');
    if (!url.pathname.startsWith(prefix)) {
      return failure(options, 404, { message: 'Not found' });
    }
    const proxyPath = url.pathname.slice(prefix.length);
    const route = routes.find((r) => (!r.method || r.method === method) && proxyPath.startsWith(r.path));
    if (!route) {
      // Grafana would forward to the data source's own URL, which this plugin leaves empty.
      return failure(options, 502, { message: 'Bad Gateway' });
    }
    if (route.reqRole && RANK[user.role] < RANK[route.reqRole as OrgRole]) {
      return failure(options, 403, { message: 'plugin proxy route access denied' });
    }
    const target = joinUrlFragments(fill(route.url, ds), proxyPath.slice(route.path.length)) + url.search;
    const headers: Record<string, string> = {};
    for (const h of route.headers ?? []) {
      headers[h.name] = fill(h.content, ds);
    }
    if (sendUserHeader) {
      headers['X-Grafana-User'] = user.login;
    }
    if (options.data !== undefined && method !== 'GET') {
      headers['Content-Type'] = 'application/json';
    }
    return new Observable((subscriber) => {
      http(method, target, headers, method === 'GET' ? undefined : JSON.stringify(options.data ?? {}))
        .then((res) => {
          const data: unknown = res.contentType.includes('json') ? JSON.parse(res.text) : res.text;
          if (res.status === 401) {
            subscriber.error({ status: 400, data: 'Authentication to data source failed', config: options });
          } else if (res.status >= 400) {
            subscriber.error({ status: res.status, data, config: options });
          } else {
            subscriber.next({ status: res.status, ok: true, data: data as T, config: options } as FetchResponse<T>);
            subscriber.complete();
          }
        })
        .catch(() => subscriber.error({ status: 502, data: { message: 'Bad Gateway' }, config: options }));
    });
  };
  return { fetch };
}
