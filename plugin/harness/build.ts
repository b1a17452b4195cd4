// Builds what the browser tests load: the plugin's dist (only when missing; CI builds it first)
// and the harness page bundle (page/main.tsx + the real @grafana/* packages) with esbuild, for one
// of two package sets:
// - grafana12: the plugin's own dependencies (@grafana/* 12.4.10, React 18), as the build pins them;
// - grafana13: harness/grafana13 (@grafana/* 13.2.3, React 19: Grafana 13.2+ runs plugins on it),
//   installed there with npm ci from its own lockfile when missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

export const pluginDir = join(__dirname, '..');
export const distDir = join(pluginDir, 'dist');
const pageDir = join(__dirname, 'page');

export type PackageSetName = 'grafana12' | 'grafana13';

export interface PackageSet {
  name: PackageSetName;
  /** Where the page's bare imports resolve from. */
  resolveDir: string;
  /** The lockfile that pins the set (a change rebuilds the bundle). */
  lockfile: string;
  bundle: string;
}

export function packageSet(name: PackageSetName): PackageSet {
  const resolveDir = name === 'grafana13' ? join(__dirname, 'grafana13') : pluginDir;
  return {
    name,
    resolveDir,
    lockfile: name === 'grafana13' ? join(resolveDir, 'package-lock.json') : join(pluginDir, '..', 'package-lock.json'),
    bundle: join(__dirname, '.build', `harness-page-${name}.js`),
  };
}

/** The set the running test file uses: set per jest project (harness/jest.config.js). */
export function currentPackageSet(): PackageSet {
  const name = (globalThis as { harnessPackages?: string }).harnessPackages ?? process.env.AUTHWATCH_HARNESS_PACKAGES ?? 'grafana12';
  if (name !== 'grafana12' && name !== 'grafana13') {
    throw new Error(`unknown harness package set ${name}`);
  }
  return packageSet(name);
}

/** Installs harness/grafana13 from its lockfile when its node_modules is missing or older. */
export function ensureInstalled(set: PackageSet): void {
  if (set.name !== 'grafana13') {
    return;
  }
  const marker = join(set.resolveDir, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(set.lockfile).mtimeMs) {
    return;
  }
  console.log(`installing the ${set.name} package set: npm ci in ${set.resolveDir}`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--workspaces=false'], { cwd: set.resolveDir, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error(`npm ci in ${set.resolveDir} failed`);
  }
}

/** Package name → installed version, as the set resolves them. */
export function installedVersions(set: PackageSet): Record<string, string> {
  const names = ['@grafana/data', '@grafana/ui', '@grafana/runtime', '@grafana/schema', 'react', 'react-dom'];
  return Object.fromEntries(
    names.map((name) => {
      const pkg = require.resolve(`${name}/package.json`, { paths: [set.resolveDir] });
      return [name, (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version];
    })
  );
}

/** Directory of @grafana/ui's icon set in this package set (Grafana serves it to the page). */
export function iconsDir(set: PackageSet): string {
  const pkg = require.resolve('@grafana/ui/package.json', { paths: [set.resolveDir] });
  return join(dirname(pkg), 'dist', 'public', 'img', 'icons');
}

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

/** The bundle is stale when the page sources, this build script or the set's lockfile changed. */
function newestSource(set: PackageSet): number {
  const inputs = [...readdirSync(pageDir).map((f) => join(pageDir, f)), __filename, ...(existsSync(set.lockfile) ? [set.lockfile] : [])];
  return Math.max(...inputs.map((f) => statSync(f).mtimeMs));
}

/** Input files of a built bundle that come from a package set, by package (react, @grafana/ui…). */
export interface BundleSources {
  /** package name → node_modules directories it was bundled from */
  packages: Record<string, string[]>;
}

export async function ensurePageBundle(set: PackageSet): Promise<string> {
  ensureInstalled(set);
  const meta = `${set.bundle}.meta.json`;
  if (existsSync(set.bundle) && existsSync(meta) && statSync(set.bundle).mtimeMs > newestSource(set)) {
    return set.bundle;
  }
  mkdirSync(join(__dirname, '.build'), { recursive: true });
  const started = Date.now();
  const { build } = await import('esbuild');
  const uiDir = dirname(require.resolve('@grafana/ui/package.json', { paths: [set.resolveDir] }));
  const result = await build({
    entryPoints: [join(pageDir, 'main.tsx')],
    outfile: set.bundle,
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
    // ~17 MB unminified: minified, a busy machine loads and parses the page well inside its timeouts.
    minify: true,
    metafile: true,
    plugins: [
      {
        // The page's own imports (react, @grafana/*, …) resolve from the chosen package set; the
        // packages' imports then resolve inside that set's node_modules.
        name: 'package-set',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.pluginData === 'package-set' || !args.importer.startsWith(pageDir + sep)) {
              return undefined;
            }
            // The router must be the very copy @grafana/ui links against (Grafana wraps plugin
            // pages in it): resolve it from @grafana/ui's own directory.
            const from = /^react-router-dom(-v5-compat)?$/.test(args.path) ? uiDir : set.resolveDir;
            return b.resolve(args.path, { resolveDir: from, kind: args.kind, pluginData: 'package-set' });
          });
        },
      },
    ],
  });
  const packages: Record<string, Set<string>> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /^(.*node_modules)\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) {
      (packages[m[2]] ??= new Set()).add(m[1]);
    }
  }
  const sources: BundleSources = { packages: Object.fromEntries(Object.entries(packages).map(([k, v]) => [k, [...v]])) };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(meta, JSON.stringify(sources));
  console.log(`harness page bundle (${set.name}) built in ${Date.now() - started} ms`);
  return set.bundle;
}

export function bundleSources(set: PackageSet): BundleSources {
  return JSON.parse(readFileSync(`${set.bundle}.meta.json`, 'utf8')) as BundleSources;
}
