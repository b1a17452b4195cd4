import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root: the nearest folder up from `from` that holds plugin/src/plugin.json. The
 * generator runs from source in tests and from dist/ when compiled, so paths are found, not assumed.
 */
export function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'plugin', 'src', 'plugin.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no plugin/src/plugin.json above ${from}`);
  }
}
