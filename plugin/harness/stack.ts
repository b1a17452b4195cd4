// Everything a browser test needs, started for real: the collector (fresh SQLite), the harness
// server (built plugin + route proxy) and Debian's Chromium; plus a watch on every browser request
// and response so a test can prove the collector keys never reach the page.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Page } from 'playwright-core';

import { bundleSources, currentPackageSet, distDir, ensurePageBundle, ensurePluginBuilt, iconsDir, installedVersions, PackageSet } from './build';
import { chromiumMissingReason, launchChromium, LaunchedBrowser } from './chromium';
import { RunningCollector, startCollector } from './collector';
import { OrgRole } from './routes';
import { HarnessServer } from './server';

export const DS_NAME = 'Authwatch';
export const DS_DOWN_NAME = 'Authwatch (collector down)';
export const DS_WRONG_KEY_NAME = 'Authwatch (wrong read key)';
export const PANEL_ID = 'authwatch-sessions-panel';
export const DATASOURCE_ID = 'authwatch-activity-datasource';

/** Skip (outside CI) or fail (in CI) when Chromium is missing; returns true when tests can run. */
export function browserAvailable(): boolean {
  const reason = chromiumMissingReason();
  if (!reason) {
    return true;
  }
  if (process.env.CI === 'true') {
    throw new Error(`browser tests need Chromium in CI: ${reason}`);
  }
  console.log(`SKIPPING browser tests: ${reason}`);
  return false;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Leak {
  where: string;
  url: string;
}

export interface Stack {
  packageSet: PackageSet;
  /** Package name → version the page bundle was built from. */
  versions: Record<string, string>;
  collector: RunningCollector;
  server: HarnessServer;
  browser: LaunchedBrowser;
  /** Requests the pages made (URL + method), for assertions about what went through the proxy. */
  requests: Array<{ method: string; url: string }>;
  /** Places a collector key showed up in browser traffic; must stay empty. */
  leaks: Leak[];
  pageErrors: string[];
  openPage(role: OrgRole, login?: string): Promise<{ page: Page; session: string }>;
  /** Makes `session` the browser's Grafana login again (one profile holds one login cookie, as in a real browser). */
  activate(session: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  ensurePluginBuilt();
  const packageSet = currentPackageSet();
  const vendorJsPath = await ensurePageBundle(packageSet);
  const versions = installedVersions(packageSet);
  // Which package set each shared library really came from (a wrong resolution would fall back
  // to the workspace's React 18 silently): every copy must come from the set's own node_modules.
  const wrongCopies = Object.entries(bundleSources(packageSet).packages)
    .filter(([name]) => ['react', 'react-dom', '@grafana/data', '@grafana/ui', '@grafana/runtime'].includes(name))
    .filter(([, dirs]) => dirs.some((d) => (packageSet.name === 'grafana13') !== d.endsWith('grafana13/node_modules')));
  if (wrongCopies.length) {
    throw new Error(`the ${packageSet.name} page bundle took packages from elsewhere: ${JSON.stringify(wrongCopies)}`);
  }
  console.log(`harness package set ${packageSet.name}: ${Object.entries(versions).map(([n, v]) => `${n} ${v}`).join(', ')}`);
  const tag = randomBytes(6).toString('hex');
  const keys = { ingest: `aw-ingest-${tag}`, read: `aw-read-${tag}`, admin: `aw-admin-${tag}` };
  const collector = await startCollector(keys);
  const secrets = { readKey: keys.read, adminKey: keys.admin };
  const server = new HarnessServer({
    distDir,
    vendorJsPath,
    iconsDir: iconsDir(packageSet),
    datasources: [
      { uid: 'authwatch', name: DS_NAME, type: DATASOURCE_ID, jsonData: { url: collector.url, showDetails: true }, secureJsonData: secrets },
      {
        uid: 'authwatch-down',
        name: DS_DOWN_NAME,
        type: DATASOURCE_ID,
        jsonData: { url: `http://127.0.0.1:${await closedPort()}`, showDetails: true },
        secureJsonData: secrets,
      },
      {
        uid: 'authwatch-wrong-key',
        name: DS_WRONG_KEY_NAME,
        type: DATASOURCE_ID,
        jsonData: { url: collector.url, showDetails: true },
        secureJsonData: { readKey: `aw-not-a-key-${tag}`, adminKey: `aw-not-a-key-${tag}` },
      },
    ],
  });
  await server.start();
  const browser = await launchChromium();
  const requests: Stack['requests'] = [];
  const leaks: Leak[] = [];
  const pageErrors: string[] = [];
  const secretValues = [...Object.values(keys), `aw-not-a-key-${tag}`];
  const check = (where: string, url: string, text: string | null | undefined) => {
    if (text && secretValues.some((k) => text.includes(k))) {
      leaks.push({ where, url });
    }
  };

  const activate = async (session: string) => {
    await browser.context.addCookies([{ name: 'grafana_session', value: session, url: server.url }]);
  };
  return {
    packageSet,
    versions,
    collector,
    server,
    browser,
    requests,
    leaks,
    pageErrors,
    activate,
    async openPage(role, login = role.toLowerCase()) {
      const session = server.login({ login, role });
      await activate(session);
      const page = await browser.context.newPage();
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('request', async (req) => {
        requests.push({ method: req.method(), url: req.url() });
        check('request url', req.url(), req.url());
        check('request body', req.url(), req.postData());
        check('request headers', req.url(), JSON.stringify(await req.allHeaders()));
      });
      page.on('response', async (res) => {
        check('response headers', res.url(), JSON.stringify(await res.allHeaders()));
        const type = res.headers()['content-type'] ?? '';
        if (/json|text|javascript|csv/.test(type)) {
          check('response body', res.url(), await res.text().catch(() => ''));
        }
      });
      // Generous: the page parses the whole @grafana/ui bundle, on a shared 2-core machine.
      await page.goto(server.url + '/', { timeout: 120_000 });
      await page.waitForFunction(() => 'authwatchHarness' in window, undefined, { timeout: 120_000 });
      return { page, session };
    },
    async stop() {
      await browser.close().catch(() => undefined);
      await server.stop().catch(() => undefined);
      await collector.stop();
    },
  };
}
