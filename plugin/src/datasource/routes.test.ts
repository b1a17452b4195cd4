import pluginJson from './plugin.json';

type Route = { path: string; method?: string; reqRole?: string; url: string; headers?: Array<{ name: string; content: string }> };
const routes = pluginJson.routes as Route[];

/**
 * Grafana's data source proxy picks the first route whose method matches (or is unset / "*") and
 * whose path is a plain string prefix of the proxied path, then enforces reqRole. This mirrors that
 * rule so the tests check what a request would actually get.
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
    ['admin/sessions/s1/terminate', '{{ .JsonData.url }}/v1/sessions/'],
    ['admin/users/alice/sessions/terminate', '{{ .JsonData.url }}/v1/users/'],
    ['admin/users/alice/unlock', '{{ .JsonData.url }}/v1/users/'],
    ['admin/ips/198.51.100.9/unlock', '{{ .JsonData.url }}/v1/ips/'],
  ])('POST %s (a panel action) uses the admin key and needs the Editor role', (path, url) => {
    const route = match('POST', path);
    expect(route?.url).toBe(url);
    expect(route?.reqRole).toBe('Editor');
    expect(header(route, 'Authorization')).toBe('Bearer {{ .SecureJsonData.adminKey }}');
  });

  it.each([
    ['PUT', 'admin/policy'],
    ['POST', 'admin/policy'],
    ['PUT', 'admin/sessions/s1/terminate'],
    ['POST', 'admin/events'],
    ['POST', 'admin/check'],
    ['DELETE', 'admin/users/alice'],
    ['POST', 'read/users/alice/unlock'],
    ['GET', 'readme'],
  ])('%s %s matches no route: nothing outside the panel actions gets a key', (method, path) => {
    expect(match(method, path)).toBeUndefined();
  });

  it('only the panel actions get the admin key: POST on sessions/, users/ and ips/, nothing else', () => {
    const admin = routes.filter((r) => header(r, 'Authorization')?.includes('adminKey'));
    expect(admin.map((r) => `${r.method} ${r.path}`)).toEqual(['POST admin/sessions/', 'POST admin/users/', 'POST admin/ips/']);
    expect(admin.every((r) => r.reqRole === 'Editor')).toBe(true);
  });

  it('never gives the admin key to a GET', () => {
    expect(header(match('GET', 'admin/users/alice/unlock'), 'Authorization')).toBeUndefined();
  });

  it('keeps keys out of jsonData: every key reference is a SecureJsonData one', () => {
    const text = JSON.stringify(pluginJson);
    expect(text).not.toMatch(/(?<!Secure)JsonData\.(readKey|adminKey)/);
    expect(text.match(/\.SecureJsonData\.\w+/g)?.sort()).toEqual([
      '.SecureJsonData.adminKey',
      '.SecureJsonData.adminKey',
      '.SecureJsonData.adminKey',
      '.SecureJsonData.readKey',
    ]);
  });
});
