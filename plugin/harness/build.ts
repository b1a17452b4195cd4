// Builds what the browser tests load: the plugin's dist (only when missing; CI builds it first)
// and the harness page bundle (page/main.tsx + the real @grafana/* packages) with esbuild.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const pluginDir = join(__dirname, '..');
export const distDir = join(pluginDir, 'dist');
const pageDir = join(__dirname, 'page');
export const pageBundle = join(__dirname, '.build', 'harness-page.js');

export function ensurePluginBuilt(): void {
  const needed = ['module.js', 'datasource/module.js', 'panel/module.js', 'datasource/plugin.json', 'panel/plugin.json'];
  if (needed.every((f) => existsSync(join(distDir, f)))) {
    return;
  }
  console.log('plugin/dist is missing: running npm run build -w plugin');
  const r = spawnSync('npm', ['run', 'build'], { cwd: pluginDir, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error('npm run build -w plugin failed');
  }
}

/** The bundle is stale when the page sources or the installed packages (package-lock) changed. */
function newestSource(): number {
  const lock = join(pluginDir, '..', 'package-lock.json');
  const inputs = [...readdirSync(pageDir).map((f) => join(pageDir, f)), ...(existsSync(lock) ? [lock] : [])];
  return Math.max(...inputs.map((f) => statSync(f).mtimeMs));
}

export async function ensurePageBundle(): Promise<string> {
  if (existsSync(pageBundle) && statSync(pageBundle).mtimeMs > newestSource()) {
    return pageBundle;
  }
  mkdirSync(join(__dirname, '.build'), { recursive: true });
  const started = Date.now();
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(pageDir, 'main.tsx')],
    outfile: pageBundle,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    jsx: 'automatic',
    // Production React, as Grafana ships it (render timings mean something).
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    loader: { '.css': 'empty', '.svg': 'dataurl', '.png': 'dataurl', '.woff': 'empty', '.woff2': 'empty', '.ttf': 'empty' },
    logLevel: 'error',
    legalComments: 'none',
  });
  console.log(`harness page bundle built in ${Date.now() - started} ms`);
  return pageBundle;
}
