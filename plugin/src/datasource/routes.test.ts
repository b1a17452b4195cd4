import pluginJson from './plugin.json';

type Route = { path: string; method?: string; reqRole?: string; url: string; headers?: Array<{ name: string; content: string }> };
const routes = pluginJson.routes as Route[];

/**
 * Grafana's data source proxy picks the first route whose method matches (or is unset / "*") and
 * whose path is a prefix of the proxied path, then enforces reqRole. This mirrors that rule so the
 * tests check what a request would actually get.
 */
function match(method: string, proxyPath: string): Route | undefined {
  return routes.find((r) => (!r.method || r.method === '*' || r.method === method) && proxyPath.startsWith(r.path));
}

function header(route: Route | undefined, name: string): string | undefined {
  return route?.headers?.find((h) => h.name === name)?.content;
}

describe('plugin.json proxy routes', () => {
  it('sends reads to /v1 with the read key and the self-view flag', () => {
    const route = match('GET', 'read/events');
    expect(route?.url).toBe('{{ .JsonData.url }}/v1');
    expect(route?.reqRole).toBeUndefined();
    expect(header(route, 'Authorization')).toBe('Bearer {{ .SecureJsonData.readKey }}');
    expect(header(route, 'X-Authwatch-Self-View')).toBe('{{ .JsonData.selfView }}');
  });

  it.each([
    ['POST', 'admin/sessions/s1/terminate'],
    ['POST', 'admin/users/alice/sessions/terminate'],
    ['POST', 'admin/users/alice/unlock'],
    ['POST', 'admin/ips/198.51.100.9/unlock'],
    ['PUT', 'admin/policy'],
  ])('%s %s uses the admin key and needs the Editor role', (method, path) => {
    const route = match(method, path);
    expect(route?.reqRole).toBe('Editor');
    expect(header(route, 'Authorization')).toBe('Bearer {{ .SecureJsonData.adminKey }}');
  });

  it('never gives the admin key to a GET, nor the read key to a write', () => {
    expect(header(match('GET', 'admin/users/alice/unlock'), 'Authorization')).toBeUndefined();
    expect(match('POST', 'read/users/alice/unlock')).toBeUndefined();
    expect(match('DELETE', 'admin/users/alice')).toBeUndefined();
  });

  it('keeps keys out of jsonData: every key reference is a SecureJsonData one', () => {
    const text = JSON.stringify(pluginJson);
    expect(text).not.toMatch(/(?<!Secure)JsonData\.(readKey|adminKey)/);
    expect(text.match(/\.SecureJsonData\.\w+/g)?.sort()).toEqual([
      '.SecureJsonData.adminKey',
      '.SecureJsonData.adminKey',
      '.SecureJsonData.readKey',
    ]);
  });
});
