// The modules a Grafana page shares with plugins, taken from the REAL installed packages: only
// names Grafana itself provides (public/app/features/plugins/loader/sharedDependencies.ts), so a
// plugin that imports anything else fails here as it would in Grafana. ES-module imports keep one
// instance per package (the harness code and @grafana/ui see the same @grafana/runtime); each is
// handed out live (a proxy over the module namespace) with __esModule set, so webpack's AMD
// externals resolve default and named imports the way they do against Grafana's SystemJS registry.
import * as emotionCss from '@emotion/css';
import * as emotionReact from '@emotion/react';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as i18next from 'i18next';
import * as lodash from 'lodash';
import * as moment from 'moment';
import * as react from 'react';
import * as reactDom from 'react-dom';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';

import { GRAFANA_SHARED_NAMES } from './grafana-shared';

/** A live view of a module namespace that also says __esModule (webpack's interop flag). */
function share(namespace: object): Record<string, unknown> {
  return new Proxy(namespace as Record<string | symbol, unknown>, {
    get: (target, key) => (key === '__esModule' ? true : target[key]),
    has: (target, key) => key === '__esModule' || key in target,
  });
}

export const sharedModules: Record<string, unknown> = {
  react: share(react),
  'react-dom': share(reactDom),
  '@grafana/data': share(grafanaData),
  '@grafana/ui': share(grafanaUi),
  '@grafana/runtime': share(grafanaRuntime),
  '@emotion/css': share(emotionCss),
  emotion: share(emotionCss),
  '@emotion/react': share(emotionReact),
  rxjs: share(rxjs),
  'rxjs/operators': share(rxjsOperators),
  lodash: share(lodash),
  moment: share(moment),
  i18next: share(i18next),
};

const extra = Object.keys(sharedModules).filter((name) => !GRAFANA_SHARED_NAMES.includes(name));
if (extra.length) {
  throw new Error(`the harness offers modules Grafana does not share with plugins: ${extra.join(', ')}`);
}
