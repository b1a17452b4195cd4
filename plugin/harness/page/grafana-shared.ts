// What Grafana 12 and 13 share with plugins, by module name (no imports: the node-side tests read it too).

/**
 * The names Grafana 12 and 13 share with plugins (sharedDependenciesMap). The harness provides the
 * ones below that it can take from real packages; it never provides a name outside this list.
 */
export const GRAFANA_SHARED_NAMES = [
  '@emotion/css', '@emotion/react', '@grafana/data', '@grafana/data/unstable', '@grafana/runtime', '@grafana/runtime/unstable',
  '@grafana/slate-react', '@grafana/ui', '@grafana/ui/unstable', '@kusto/monaco-kusto', 'app/core/app_events', 'app/core/config',
  'app/core/core', 'app/core/services/backend_srv', 'app/core/table_model', 'app/core/time_series', 'app/core/time_series2',
  'app/core/utils/datemath', 'app/core/utils/flatten', 'app/core/utils/kbn', 'app/core/utils/ticks',
  'app/features/dashboard/impression_store', 'd3', 'emotion', 'i18next', 'jquery', 'jquery.flot', 'jquery.flot.crosshair',
  'jquery.flot.events', 'jquery.flot.fillbelow', 'jquery.flot.gauge', 'jquery.flot.pie', 'jquery.flot.selection',
  'jquery.flot.stack', 'jquery.flot.stackpercent', 'jquery.flot.time', 'lodash', 'moment', 'prismjs', 'react', 'react-dom',
  'react-inlinesvg', 'react-redux', 'react-router-dom', 'react-router', 'redux', 'rxjs', 'rxjs/operators', 'slate',
  'slate-plain-serializer', 'slate-react',
];
