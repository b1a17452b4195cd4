// Grafana's data source proxy (pkg/api/pluginproxy), reduced to what plugin.json routes declare:
// the first route (in plugin.json order) whose method equals the request's (or is unset / "*") and
// whose path is a plain string prefix of the proxy path wins; then its reqRole is enforced; the
// upstream URL is the route's url template joined to the rest of the path like Grafana's
// JoinURLFragments, headers and urlParams filled from the data source's jsonData and
// secureJsonData as Go's text/template fills them ("<no value>" for a key that is not set). A path
// no route matches goes to the data source's own URL without any route header (502 when it has
// none). Routes come from the BUILT dist/**/plugin.json.
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
 * Fills Grafana's `{{ .JsonData.x }}` / `{{ .SecureJsonData.x }}` templates. A key that is not set
 * becomes "<no value>", as Go's text/template renders a missing map key; any other template is refused.
 */
export function interpolate(template: string, ds: DataSourceSecrets): string {
  return template
    .replace(/\{\{\s*\.(JsonData|SecureJsonData)\.([A-Za-z0-9_]+)\s*\}\}/g, (_m, kind: string, key: string) => {
      const source: Record<string, unknown> = kind === 'JsonData' ? ds.jsonData : ds.secureJsonData;
      const value = source[key];
      if (value === undefined) {
        return '<no value>';
      }
      // text/template prints a JSON null as <nil>.
      return value === null ? '<nil>' : String(value);
    })
    .replace(/\{\{[^}]*\}\}/g, (m) => {
      throw new RouteError(502, `unsupported route template ${m}`);
    });
}

/** Returns the matched route and the proxy path remainder after the route's path. */
export function matchRoute(routes: PluginRoute[], proxyPath: string, method: string): { route: PluginRoute; rest: string } | undefined {
  for (const route of routes) {
    if (route.method && route.method !== '*' && route.method !== method) {
      continue;
    }
    if (proxyPath.startsWith(route.path)) {
      return { route, rest: proxyPath.slice(route.path.length) };
    }
  }
  return undefined;
}

/** Grafana's util.JoinURLFragments: exactly one slash between the two parts. */
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

export function hasRole(userRole: OrgRole, required: OrgRole | undefined): boolean {
  return required === undefined || roleRank[userRole] >= roleRank[required];
}

/**
 * Builds the upstream request for one proxied browser request, or throws RouteError with the
 * status Grafana would answer (403 role too low, 502 no route and no data source URL).
 * `proxyPath` is the part after /api/datasources/proxy/uid/<uid>/, as Grafana sees it.
 */
export function buildUpstream(
  routes: PluginRoute[],
  ds: DataSourceSecrets & { url?: string },
  userRole: OrgRole,
  method: string,
  proxyPath: string,
  search: string
): UpstreamRequest & { route?: string } {
  const match = matchRoute(routes, proxyPath, method);
  if (!match) {
    // Grafana proxies an unmatched path to the data source's own URL, with no route headers.
    if (!ds.url) {
      throw new RouteError(502, 'Bad Gateway');
    }
    return { url: joinUrlFragments(ds.url, proxyPath) + search, headers: {} };
  }
  const { route, rest } = match;
  if (!hasRole(userRole, route.reqRole)) {
    throw new RouteError(403, 'plugin proxy route access denied');
  }
  if (!route.url) {
    throw new RouteError(502, `route ${route.path} has no url`);
  }
  let target: URL;
  try {
    target = new URL(joinUrlFragments(interpolate(route.url, ds), rest));
  } catch {
    // An unset url renders as "<no value>/v1": Grafana cannot send that anywhere.
    throw new RouteError(502, 'Bad Gateway');
  }
  target.search = search;
  for (const p of route.urlParams ?? []) {
    target.searchParams.set(p.name, interpolate(p.content, ds));
  }
  const headers: Record<string, string> = {};
  for (const h of route.headers ?? []) {
    headers[h.name] = interpolate(h.content, ds);
  }
  return { url: target.toString(), headers, route: `${route.method ?? '*'} ${route.path}` };
}
