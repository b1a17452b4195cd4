import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

interface ModuleFilenameInfo {
  absoluteResourcePath: string;
  resourcePath: string;
  namespace: string;
  loaders: string;
}

/**
 * Source map names: our sources stay webpack://<plugin id>/./<path under src>; a package bundled from
 * the (hoisted) workspace node_modules becomes ./node_modules/<package path>, the form Grafana's
 * plugin validator recognises as a dependency instead of a source file missing from src/.
 */
export function sourceMapName(info: ModuleFilenameInfo): string {
  const path = info.absoluteResourcePath.split('\\').join('/');
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0 && !path.includes('/node_modules/grafana-public-path.js')) {
    return `webpack://${info.namespace}/./node_modules/${path.slice(at + '/node_modules/'.length)}`;
  }
  return `webpack://${info.namespace}/${info.resourcePath}${info.loaders ? `?${info.loaders}` : ''}`;
}

// Extends the scaffolded config (which must not be edited): the scaffold copies only the app's
// logos, so copy the nested plugins' img/ folders too (datasource/img, panel/img).
const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  return {
    ...base,
    output: { ...base.output, devtoolModuleFilenameTemplate: sourceMapName },
    plugins: [
      ...(base.plugins ?? []),
      new CopyWebpackPlugin({ patterns: [{ from: '*/img/**/*', to: '.', noErrorOnMissing: true }] }),
    ],
  };
};

export default config;
