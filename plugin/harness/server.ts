// The browser harness's stand-in for a Grafana server: it serves a page that loads the BUILT plugin
// modules (public/plugins/<app id>/...), hands the page boot data (user role, data source instance
// settings WITHOUT secrets), and runs the data source proxy (/api/datasources/proxy/uid/<uid>/...)
// from the routes in dist/**/plugin.json, so keys stay on this server like they stay in Grafana.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

import { BuiltPlugin, discoverPlugins } from './plugins';
import { buildUpstream, DataSourceSecrets, OrgRole, PluginRoute, readRoutes, RouteError } from './routes';

export interface HarnessDataSource extends DataSourceSecrets {
  uid: string;
  name: string;
  /** Plugin id of the data source plugin. */
  type: string;
  /** The data source's own URL (Grafana's top-level url); our plugin leaves it empty. */
  url?: string;
}

export interface HarnessUser {
  login: string;
  role: OrgRole;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  /** The plugin.json route that matched ("POST admin/sessions/"); none for an unmatched path. */
  route?: string;
  status: number;
  upstream?: string;
  /** Headers the proxy added upstream; the Authorization value is replaced by the key's name. */
  upstreamHeaders?: Record<string, string>;
}

export interface HarnessServerOptions {
  distDir: string;
  vendorJsPath: string;
  /** @grafana/ui's icon set of the package set the page uses (Grafana serves its own). */
  iconsDir: string;
  datasources: HarnessDataSource[];
}

const mimeTypes: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

// Request headers never passed upstream: the browser's cookie and auth are Grafana's, not the collector's.
const droppedRequestHeaders = new Set(['cookie', 'authorization', 'host', 'connection', 'content-length', 'origin', 'referer']);

export class HarnessServer {
  readonly plugins: BuiltPlugin[];
  readonly proxyLog: ProxyLogEntry[] = [];
  private readonly routes = new Map<string, PluginRoute[]>();
  private readonly sessions = new Map<string, HarnessUser>();
  /** The app's plugin settings, as Grafana keeps them per org (enabled by provisioning or an Admin). */
  readonly appSettings = { enabled: true, pinned: true, jsonData: {} as Record<string, unknown> };
  /** Every POST /api/plugins/<app>/settings the page made. */
  readonly settingsUpdates: Array<{ role: OrgRole; body: unknown; status: number }> = [];
  private server?: Server;
  url = '';

  constructor(private readonly options: HarnessServerOptions) {
    this.plugins = discoverPlugins(options.distDir);
    for (const ds of options.datasources) {
      const plugin = this.plugins.find((p) => p.id === ds.type && p.type === 'datasource');
      if (!plugin) {
        throw new Error(`data source ${ds.name}: no built datasource plugin with id ${ds.type} in ${options.distDir}`);
      }
      this.routes.set(ds.uid, readRoutes(plugin.pluginJsonPath));
    }
  }

  /** Creates a login session (like Grafana's grafana_session cookie) and returns its cookie value. */
  login(user: HarnessUser): string {
    const token = randomBytes(16).toString('hex');
    this.sessions.set(token, user);
    return token;
  }

  /** Changes a signed-in user's role on the server only (the page keeps what it was told at load). */
  setRole(session: string, role: OrgRole): void {
    const user = this.sessions.get(session);
    if (!user) {
      throw new Error('unknown session');
    }
    user.role = role;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) {
          this.json(res, 500, { message: err.message });
        } else {
          res.destroy(err);
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) {
      return;
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private user(req: IncomingMessage): HarnessUser | undefined {
    const cookie = req.headers.cookie ?? '';
    const m = /(?:^|;\s*)grafana_session=([0-9a-f]+)/.exec(cookie);
    return m ? this.sessions.get(m[1]) : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://harness');
    const path = url.pathname;
    if (path === '/' && req.method === 'GET') {
      return this.page(req, res);
    }
    if (path === '/harness/vendor.js') {
      return this.file(res, this.options.vendorJsPath);
    }
    const icon = /^\/public\/build\/img\/icons\/([a-z-]+\/[a-z0-9-]+\.svg)$/.exec(path);
    if (icon) {
      // Grafana serves @grafana/ui's icon set under public/build/img/icons; Icon fetches from there.
      return this.file(res, join(this.options.iconsDir, icon[1]));
    }
    const pub = /^\/public\/plugins\/([^/]+)\/(.+)$/.exec(path);
    if (pub) {
      const app = this.plugins.find((p) => p.dir === '');
      if (!app || pub[1] !== app.id) {
        return this.json(res, 404, { message: 'plugin not found' });
      }
      const rel = normalize(decodeURIComponent(pub[2]));
      if (rel.startsWith('..')) {
        return this.json(res, 400, { message: 'bad path' });
      }
      return this.file(res, join(this.options.distDir, rel));
    }
    const proxy = /^\/api\/datasources\/proxy\/uid\/([^/]+)\/?(.*)$/.exec(path);
    if (proxy) {
      return this.proxy(req, res, proxy[1], proxy[2], url.search);
    }
    const settings = /^\/api\/plugins\/([^/]+)\/settings$/.exec(path);
    if (settings) {
      return this.pluginSettings(req, res, settings[1]);
    }
    return this.json(res, 404, { message: 'not found' });
  }

  private page(req: IncomingMessage, res: ServerResponse): void {
    const user = this.user(req);
    if (!user) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('log in first (grafana_session cookie)');
      return;
    }
    const panels: Record<string, unknown> = {};
    const datasourceMetas: Record<string, unknown> = {};
    for (const p of this.plugins) {
      const meta = { ...p.json, module: p.module.slice(1), baseUrl: p.baseUrl, info: p.json.info ?? {} };
      if (p.type === 'panel') {
        panels[p.id] = meta;
      } else if (p.type === 'datasource') {
        datasourceMetas[p.id] = meta;
      }
    }
    const datasources: Record<string, unknown> = {};
    this.options.datasources.forEach((ds, i) => {
      // Instance settings as Grafana sends them to the browser: secureJsonData is reduced to "is set" flags.
      datasources[ds.name] = {
        id: i + 1,
        uid: ds.uid,
        type: ds.type,
        name: ds.name,
        url: `/api/datasources/proxy/uid/${ds.uid}`,
        access: 'proxy',
        jsonData: ds.jsonData,
        secureJsonFields: Object.fromEntries(Object.keys(ds.secureJsonData).map((k) => [k, true])),
        meta: datasourceMetas[ds.type],
        readOnly: false,
        isDefault: i === 0,
      };
    });
    const app = this.plugins.find((p) => p.dir === '');
    const bootData = {
      settings: {
        appSubUrl: '',
        datasources,
        panels,
        buildInfo: { version: 'harness', edition: 'OSS' },
        featureToggles: {},
        harnessApp: { id: app?.id, module: app?.module.slice(1) },
      },
      user: { login: user.login, name: user.login, orgRole: user.role, orgId: 1, isSignedIn: true, theme: 'dark', timezone: 'utc' },
      navTree: [],
    };
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Authwatch harness</title>
<script>window.grafanaBootData = ${JSON.stringify(bootData).replace(/</g, '\\u003c')};</script>
<script src="/harness/vendor.js"></script>
</head>
<body><div id="root"></div></body>
</html>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  }

  private file(res: ServerResponse, filePath: string): void {
    if (!existsSync(filePath) || !statSync(filePath).isFile()) {
      this.json(res, 404, { message: `no such file ${filePath}` });
      return;
    }
    res.writeHead(200, { 'content-type': mimeTypes[extname(filePath)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(filePath).pipe(res);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  /** Which configured key an Authorization header carries, by name (never the key itself). */
  private keyName(ds: HarnessDataSource, header: string): string {
    const found = Object.entries(ds.secureJsonData).find(([, key]) => header === `Bearer ${key}`);
    return found ? `Bearer <${found[0]}>` : header.includes('<no value>') ? header : 'Bearer <other>';
  }

  /** GET and POST /api/plugins/<app>/settings: Admins only change them, as in Grafana. */
  private async pluginSettings(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const user = this.user(req);
    const app = this.plugins.find((p) => p.dir === '');
    if (!user) {
      return this.json(res, 401, { message: 'Unauthorized' });
    }
    if (!app || id !== app.id) {
      return this.json(res, 404, { message: 'Plugin not found' });
    }
    if (req.method === 'GET') {
      return this.json(res, 200, { ...app.json, type: 'app', module: app.module.slice(1), baseUrl: app.baseUrl, ...this.appSettings });
    }
    if (req.method !== 'POST') {
      return this.json(res, 405, { message: 'Method not allowed' });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { enabled?: boolean; pinned?: boolean; jsonData?: Record<string, unknown> };
    const status = user.role === 'Admin' ? 200 : 403;
    this.settingsUpdates.push({ role: user.role, body, status });
    if (status !== 200) {
      return this.json(res, 403, { message: 'Permission denied' });
    }
    Object.assign(this.appSettings, {
      enabled: Boolean(body.enabled),
      pinned: Boolean(body.pinned),
      jsonData: body.jsonData ?? {},
    });
    return this.json(res, 200, { message: 'Plugin settings updated' });
  }

  private async proxy(req: IncomingMessage, res: ServerResponse, uid: string, proxyPath: string, search: string): Promise<void> {
    const method = req.method ?? 'GET';
    const entry: ProxyLogEntry = { method, path: '/' + proxyPath + search, status: 0 };
    this.proxyLog.push(entry);
    const user = this.user(req);
    if (!user) {
      entry.status = 401;
      return this.json(res, 401, { message: 'Unauthorized' });
    }
    const ds = this.options.datasources.find((d) => d.uid === uid);
    const routes = this.routes.get(uid);
    if (!ds || !routes) {
      entry.status = 404;
      return this.json(res, 404, { message: 'Data source not found' });
    }
    let upstream;
    try {
      upstream = buildUpstream(routes, ds, user.role, method, proxyPath, search);
    } catch (err) {
      if (err instanceof RouteError) {
        entry.status = err.status;
        return this.json(res, err.status, { message: err.message });
      }
      throw err;
    }
    entry.upstream = upstream.url;
    entry.route = upstream.route;
    entry.upstreamHeaders = Object.fromEntries(
      Object.entries(upstream.headers).map(([k, v]) => [k, k.toLowerCase() === 'authorization' ? this.keyName(ds, v) : v])
    );
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !droppedRequestHeaders.has(k)) {
        headers[k] = v;
      }
    }
    Object.assign(headers, upstream.headers);
    let answer: Response;
    try {
      answer = await fetch(upstream.url, {
        method,
        headers,
        body: chunks.length && method !== 'GET' && method !== 'HEAD' ? Buffer.concat(chunks) : undefined,
      });
    } catch {
      // What Grafana's reverse proxy answers when the upstream cannot be reached.
      entry.status = 502;
      return this.json(res, 502, { message: 'Bad Gateway' });
    }
    if (answer.status === 401) {
      // Grafana's data source proxy turns the upstream's 401 into a 400 with this body.
      entry.status = 400;
      await answer.arrayBuffer();
      res.writeHead(400).end('Authentication to data source failed');
      return;
    }
    entry.status = answer.status;
    const out: Record<string, string> = {};
    for (const name of ['content-type', 'content-disposition', 'retry-after']) {
      const v = answer.headers.get(name);
      if (v) {
        out[name] = v;
      }
    }
    res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
  }
}
