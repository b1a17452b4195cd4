// Where the browser tests write screenshots. Ordinary runs write under .ci/screenshots/<set>/ so a
// test run never dirties the work tree; UPDATE_SCREENSHOTS=1 refreshes the committed ones (docs and
// the plugin catalog's), from the Grafana 12 run only so the two package sets do not both write.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { currentPackageSet } from './build';

const repo = join(__dirname, '..', '..');

/** Path for a docs screenshot (docs/screenshots/<name>). */
export function docsScreenshot(name: string): string {
  const set = currentPackageSet().name;
  const dir = process.env.UPDATE_SCREENSHOTS && set === 'grafana12' ? join(repo, 'docs', 'screenshots') : join(repo, '.ci', 'screenshots', set);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** Path for a plugin catalog screenshot (plugin/src/img/<name>, listed in plugin.json). */
export function catalogScreenshot(name: string): string {
  const set = currentPackageSet().name;
  const dir = process.env.UPDATE_SCREENSHOTS && set === 'grafana12' ? join(repo, 'plugin', 'src', 'img') : join(repo, '.ci', 'screenshots', set, 'catalog');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
