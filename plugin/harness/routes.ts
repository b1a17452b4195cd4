// Grafana's data source proxy, reduced to what plugin.json routes declare: match a route by path
// prefix + method (first match wins, in plugin.json order, like pkg/api/pluginproxy), enforce its
// reqRole, and build the upstream request with the route's url/headers/urlParams templates filled
// from the data source's jsonData and secureJsonData. Routes come from the BUILT dist/**/plugin.json.
import { readFileSync } from 'node:fs';

export type OrgRole = 'Viewer' | 'Editor' | 'Admin';

export interface RouteTemplate {
  name: string;
  content: string;
}

export interface PluginRoute {
  path: string;
  method?: string;
  url?: string;
  reqRole?: OrgRole;
  reqAction?: string;
  headers?: RouteTemplate[];
  urlParams?: RouteTemplate[];
  tokenAuth?: unknown;
  jwtTokenAuth?: unknown;
  body?: unknown;
}

export interface DataSourceSecrets {
  jsonData: Record<string, unknown>;
  secureJsonData: Record<string, string>;
}

export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
}

export class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

const roleRank: Record<OrgRole, number> = { Viewer: 1, Editor: 2, Admin: 3 };

export function readRoutes(pluginJsonPath: string): PluginRoute[] {
  const json = JSON.parse(readFileSync(pluginJsonPath, 'utf8')) as { routes?: PluginRoute[] };
  const routes = json.routes ?? [];
  for (const route of routes) {
    // The harness would silently send unauthenticated requests for these; refuse instead.
    if (route.tokenAuth || route.jwtTokenAuth || route.body || route.reqAction) {
      throw new Error(`route ${route.path}: tokenAuth/jwtTokenAuth/body/reqAction are not supported by the harness proxy`);
    }
  }
  return routes;
}

/**
 * Fills Grafana's `{{ .JsonData.x }}` / `{{ .SecureJsonData.x }}` templates. A value that is not set
 * becomes empty, as Grafana renders it; any other template is refused.
 */
export function interpolate(template: string, ds: DataSourceSecrets): string {
  return template
    .replace(/\{\{\s*\.(JsonData|SecureJsonData)\.([A-Za-z0-9_]+)\s*\}\}/g, (_m, kind: string, key: string) => {
      const source: Record<string, unknown> = kind === 'JsonData' ? ds.jsonData : ds.secureJsonData;
      const value = source[key];
      return value === undefined || value === null ? '' : String(value);
    })
    .replace(/\{\{[^}]*\}\}/g, (m) => {
      throw new RouteError(502, `unsupported route template ${m}`);
    });
}

function cleanPath(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Returns the matched route and the proxy path remainder after the route's path. */
export function matchRoute(routes: PluginRoute[], proxyPath: string, method: string): { route: PluginRoute; rest: string } | undefined {
  const path = cleanPath(proxyPath);
  for (const route of routes) {
    if (route.method && route.method !== '*' && route.method.toUpperCase() !== method.toUpperCase()) {
      continue;
    }
    const prefix = cleanPath(route.path);
    if (path === prefix || path.startsWith(prefix + '/') || prefix === '') {
      return { route, rest: path.slice(prefix.length) };
    }
  }
  return undefined;
}

export function hasRole(userRole: OrgRole, required: OrgRole | undefined): boolean {
  return required === undefined || roleRank[userRole] >= roleRank[required];
}

/**
 * Builds the upstream request for one proxied browser request, or throws RouteError with the
 * status Grafana would answer (404 no route, 403 role too low).
 */
export function buildUpstream(
  routes: PluginRoute[],
  ds: DataSourceSecrets,
  userRole: OrgRole,
  method: string,
  proxyPath: string,
  search: string
): UpstreamRequest {
  const match = matchRoute(routes, proxyPath, method);
  if (!match) {
    throw new RouteError(404, `no plugin route matches ${method} ${proxyPath}`);
  }
  const { route, rest } = match;
  if (!hasRole(userRole, route.reqRole)) {
    throw new RouteError(403, 'plugin proxy route access denied');
  }
  if (!route.url) {
    throw new RouteError(502, `route ${route.path} has no url`);
  }
  const base = new URL(interpolate(route.url, ds));
  const joined = base.pathname.replace(/\/+$/, '') + (rest ? '/' + rest.replace(/^\/+/, '') : '');
  const target = new URL(joined || '/', base);
  target.search = search;
  for (const p of route.urlParams ?? []) {
    target.searchParams.set(p.name, interpolate(p.content, ds));
  }
  const headers: Record<string, string> = {};
  for (const h of route.headers ?? []) {
    headers[h.name] = interpolate(h.content, ds);
  }
  return { url: target.toString(), headers };
}
