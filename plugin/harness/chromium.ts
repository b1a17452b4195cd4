// Starts Debian's Chromium through playwright-core (never a downloaded browser) with a fresh profile.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, BrowserContext } from 'playwright-core';

export const chromiumPath = process.env.AUTHWATCH_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run, or undefined when they can. In CI a missing browser is a
 * failure (the caller throws); elsewhere the tests skip and print this reason.
 */
export function chromiumMissingReason(): string | undefined {
  return existsSync(chromiumPath) ? undefined : `Chromium not found at ${chromiumPath} (apt-get install chromium, or set AUTHWATCH_CHROMIUM)`;
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'authwatch-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 800 },
    acceptDownloads: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
