// `npm run dashboards`: builds the dashboards and writes them as JSON twice:
// - plugin/src/dashboards: bundled in the app plugin (its Dashboards tab imports them with no
//   inputs) and read by the provisioned stack's dashboard provider (provisioning/dashboards/authwatch.yaml);
// - provisioning/dashboards-import: the same dashboards with `__inputs`, for Dashboards → New →
//   Import in any Grafana, which asks for the Authwatch and Prometheus data sources to use.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectorHealth } from './collector-health';
import { AUTHWATCH, forImport, PROMETHEUS } from './datasources';
import { loginActivity } from './login-activity';
import { repoRoot } from './repo-root';

export const DASHBOARD_DIR = join(repoRoot(__dirname), 'plugin', 'src', 'dashboards');
export const IMPORT_DIR = join(repoRoot(__dirname), 'provisioning', 'dashboards-import');

const text = (json: object) => `${JSON.stringify(json, null, 2)}\n`;
const grafana = { type: 'grafana', id: 'grafana', name: 'Grafana', version: '12.3.0' };
const ours = (type: string, id: string, name: string) => ({ type, id, name, version: '0.1.0' });

/** File name → bundled dashboard JSON text, exactly as committed. */
export function renderDashboards(): Record<string, string> {
  return {
    'login-activity.json': text(loginActivity()),
    'collector-health.json': text(collectorHealth()),
  };
}

/** File name → importable dashboard JSON text (with __inputs), exactly as committed. */
export function renderImportDashboards(): Record<string, string> {
  return {
    'login-activity.json': text(
      forImport(loginActivity() as never, [AUTHWATCH], [
        grafana,
        ours('datasource', AUTHWATCH.pluginId, AUTHWATCH.pluginName),
        ours('panel', 'authwatch-sessions-panel', 'Authwatch sessions'),
      ]),
    ),
    'collector-health.json': text(
      forImport(collectorHealth() as never, [PROMETHEUS], [grafana, { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' }]),
    ),
  };
}

if (require.main === module) {
  for (const [dir, files] of [
    [DASHBOARD_DIR, renderDashboards()],
    [IMPORT_DIR, renderImportDashboards()],
  ] as const) {
    mkdirSync(dir, { recursive: true });
    for (const [name, json] of Object.entries(files)) {
      writeFileSync(join(dir, name), json);
      console.log(`wrote ${join(dir, name)}`);
    }
  }
}
