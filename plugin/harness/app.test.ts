// The app plugin's own pages, from the BUILT module.js, in Chromium: the Overview (root page) and
// the Configuration page (enable/disable through Grafana's plugin settings API), plus the data
// source's configuration editor. Screenshots of each feed docs/install-grafana.md.
import type { Page } from 'playwright-core';

import type { Harness } from './page/main';
import { catalogScreenshot, docsScreenshot } from './screenshots';
import { browserAvailable, DS_NAME, Stack, startStack } from './stack';

const run = browserAvailable() ? describe : describe.skip;

const harness = (page: Page) => ({
  mountAppPage: (which: 'root' | 'config', theme: 'light' | 'dark' = 'dark') =>
    page.evaluate(([w, t]) => (window as unknown as { authwatchHarness: Harness }).authwatchHarness.mountAppPage(w, t), [which, theme] as const),
  mountDataSourceConfig: (name: string, theme: 'light' | 'dark' = 'dark') =>
    page.evaluate(([n, t]) => (window as unknown as { authwatchHarness: Harness }).authwatchHarness.mountDataSourceConfig(n, t), [name, theme] as const),
});

run('app pages and data source settings (built) in Chromium', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('Overview: the dashboards by uid, the way to add a data source and to the configuration', async () => {
    const { page } = await stack.openPage('Editor');
    try {
      await harness(page).mountAppPage('root');
      const overview = page.getByTestId('data-testid authwatch-overview');
      await overview.waitFor();
      await expect(overview.textContent()).resolves.toContain('who logs in to your applications');
      const links = await overview.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(links).toEqual(
        expect.arrayContaining([
          '/d/authwatch-login-activity',
          '/d/authwatch-collector-health',
          '/connections/datasources/authwatch-activity-datasource',
          '/plugins/authwatch-monitor-app',
        ])
      );
      await page.mouse.move(0, 0);
      await page.getByTestId('harness-canvas').screenshot({ path: docsScreenshot('app-overview.png') });
      await page.getByTestId('harness-canvas').screenshot({ path: catalogScreenshot('screenshot-overview.png') });
      expect(stack.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('Configuration: an Admin disables the app, and the page then offers to enable it (no autoEnabled)', async () => {
    const { page } = await stack.openPage('Admin', 'grafana-admin');
    try {
      const shown = await harness(page).mountAppPage('config');
      expect(shown).toEqual({ enabled: true, pages: ['Configuration'] });
      await page.getByTestId('data-testid authwatch-app-disable').waitFor();
      await page.getByTestId('harness-canvas').screenshot({ path: docsScreenshot('app-configuration.png') });
      // The page reloads after saving, as Grafana's own plugin pages do.
      await Promise.all([page.waitForEvent('load', { timeout: 120_000 }), page.getByTestId('data-testid authwatch-app-disable').click()]);
      expect(stack.server.settingsUpdates).toEqual([{ role: 'Admin', body: expect.objectContaining({ enabled: false }), status: 200 }]);
      expect(stack.server.appSettings.enabled).toBe(false);
      await page.waitForFunction(() => 'authwatchHarness' in window, undefined, { timeout: 120_000 });
      expect(await harness(page).mountAppPage('config')).toEqual({ enabled: false, pages: ['Configuration'] });
      await page.getByTestId('data-testid authwatch-app-enable').waitFor();
      await Promise.all([page.waitForEvent('load', { timeout: 120_000 }), page.getByTestId('data-testid authwatch-app-enable').click()]);
      expect(stack.server.appSettings.enabled).toBe(true);
    } finally {
      await page.close();
    }
  });

  test('Data source settings: URL and the saved keys shown as configured, never their values', async () => {
    const { page } = await stack.openPage('Admin', 'grafana-admin');
    try {
      await harness(page).mountDataSourceConfig(DS_NAME);
      const url = page.locator('#authwatch-url');
      await url.waitFor();
      await expect(url.inputValue()).resolves.toBe(stack.collector.url);
      // A saved secret shows as "configured" with a Reset button, not as text.
      await expect(page.getByRole('button', { name: 'Reset' }).count()).resolves.toBe(2);
      await expect(page.locator('#authwatch-read-key').inputValue()).resolves.toBe('configured');
      await page.mouse.move(0, 0);
      await page.getByTestId('harness-canvas').screenshot({ path: docsScreenshot('datasource-settings.png') });
      await page.getByTestId('harness-canvas').screenshot({ path: catalogScreenshot('screenshot-datasource.png') });
      expect(stack.leaks).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
