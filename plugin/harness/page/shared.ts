// The modules a Grafana page shares with plugins (create-plugin's webpack externals), taken from the
// REAL installed packages. ES-module imports keep one instance per package (the harness code and
// @grafana/ui see the same @grafana/runtime); each is handed out with __esModule set, so webpack's
// AMD externals resolve default and named imports the way they do against Grafana's SystemJS registry.
import * as emotionCss from '@emotion/css';
import * as emotionReact from '@emotion/react';
import * as grafanaData from '@grafana/data';
import * as grafanaI18n from '@grafana/i18n';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as i18next from 'i18next';
import * as jquery from 'jquery';
import * as lodash from 'lodash';
import * as moment from 'moment';
import * as react from 'react';
import * as reactDom from 'react-dom';
import * as reactRedux from 'react-redux';
import * as reactRouter from 'react-router';
import * as jsxDevRuntime from 'react/jsx-dev-runtime';
import * as jsxRuntime from 'react/jsx-runtime';
import * as redux from 'redux';
import * as rxjs from 'rxjs';

/** For a CommonJS package esbuild's namespace carries `default` = module.exports plus its properties. */
function share(namespace: object): Record<string, unknown> {
  return { ...namespace, __esModule: true };
}

export const sharedModules: Record<string, unknown> = {
  react: share(react),
  'react-dom': share(reactDom),
  'react/jsx-runtime': share(jsxRuntime),
  'react/jsx-dev-runtime': share(jsxDevRuntime),
  '@grafana/data': share(grafanaData),
  '@grafana/ui': share(grafanaUi),
  '@grafana/runtime': share(grafanaRuntime),
  '@grafana/i18n': share(grafanaI18n),
  '@emotion/css': share(emotionCss),
  '@emotion/react': share(emotionReact),
  rxjs: share(rxjs),
  lodash: share(lodash),
  moment: share(moment),
  i18next: share(i18next),
  'react-router': share(reactRouter),
  'react-redux': share(reactRedux),
  redux: share(redux),
  jquery: share(jquery),
};
