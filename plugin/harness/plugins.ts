// Finds the built plugins under plugin/dist the way Grafana does for an app with nested plugins:
// every dist/**/plugin.json is one plugin; nested ones are served below the app's base URL.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export interface BuiltPlugin {
  id: string;
  type: 'app' | 'datasource' | 'panel';
  /** Directory of its plugin.json inside dist ('' for the root app). */
  dir: string;
  pluginJsonPath: string;
  /** URL of its module.js as Grafana serves it (public/plugins/<app id>/<dir>/module.js). */
  module: string;
  baseUrl: string;
  json: Record<string, unknown> & { id: string; type: string; name: string };
}

function findPluginJsons(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.name === 'plugin.json') {
        found.push(full);
      }
    }
  };
  walk(root);
  return found;
}

export function discoverPlugins(distDir: string): BuiltPlugin[] {
  const rootJson = join(distDir, 'plugin.json');
  if (!existsSync(rootJson)) {
    throw new Error(`${rootJson} is missing: build the plugin first (npm run build -w plugin)`);
  }
  const appId = (JSON.parse(readFileSync(rootJson, 'utf8')) as { id: string }).id;
  return findPluginJsons(distDir).map((pluginJsonPath) => {
    const json = JSON.parse(readFileSync(pluginJsonPath, 'utf8')) as BuiltPlugin['json'];
    const dir = relative(distDir, dirname(pluginJsonPath)).split(sep).join('/');
    const baseUrl = `public/plugins/${appId}${dir ? '/' + dir : ''}`;
    if (!existsSync(join(dirname(pluginJsonPath), 'module.js'))) {
      throw new Error(`${pluginJsonPath}: no module.js beside it`);
    }
    return {
      id: json.id,
      type: json.type as BuiltPlugin['type'],
      dir,
      pluginJsonPath,
      module: `/${baseUrl}/module.js`,
      baseUrl,
      json,
    };
  });
}

/** The AMD dependency names a built module.js asks its host for: define([..names..], factory). */
export function amdExternals(moduleJsPath: string): string[] {
  const source = readFileSync(moduleJsPath, 'utf8');
  const m = /define\(\s*(\[[^\]]*\])/.exec(source);
  if (!m) {
    throw new Error(`${moduleJsPath} is not an AMD module (no define([...]))`);
  }
  return JSON.parse(m[1]) as string[];
}
