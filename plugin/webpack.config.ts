import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

// Extends the scaffolded config (which must not be edited): the scaffold copies only the app's
// logos, so copy the nested plugins' img/ folders too (datasource/img, panel/img).
const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  return {
    ...base,
    plugins: [
      ...(base.plugins ?? []),
      new CopyWebpackPlugin({ patterns: [{ from: '*/img/**/*', to: '.', noErrorOnMissing: true }] }),
    ],
  };
};

export default config;
