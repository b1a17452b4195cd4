// `npm run dashboards`: builds the provisioned dashboards and writes them as JSON where the app
// plugin bundles them (plugin/src/dashboards, listed in its plugin.json includes) and the Grafana
// dashboard provider reads them (provisioning/dashboards/authwatch.yaml).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectorHealth } from './collector-health';
import { loginActivity } from './login-activity';
import { repoRoot } from './repo-root';

export const DASHBOARD_DIR = join(repoRoot(__dirname), 'plugin', 'src', 'dashboards');

/** File name → dashboard JSON text, exactly as committed. */
export function renderDashboards(): Record<string, string> {
  return {
    'login-activity.json': `${JSON.stringify(loginActivity(), null, 2)}\n`,
    'collector-health.json': `${JSON.stringify(collectorHealth(), null, 2)}\n`,
  };
}

if (require.main === module) {
  mkdirSync(DASHBOARD_DIR, { recursive: true });
  for (const [name, text] of Object.entries(renderDashboards())) {
    writeFileSync(join(DASHBOARD_DIR, name), text);
    console.log(`wrote ${join(DASHBOARD_DIR, name)}`);
  }
}
