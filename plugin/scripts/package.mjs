#!/usr/bin/env node
// Packages the built plugin the way Grafana's catalog and `grafana cli --pluginUrl` expect:
// artifacts/<id>-<version>.zip with the plugin directory (named after the plugin id) at its root,
// plus <zip>.sha1 and <zip>.sha256 in sha1sum/sha256sum format.
// Usage: node scripts/package.mjs   (after `npm run build`; run from anywhere)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pluginDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const distDir = join(pluginDir, 'dist');
const outDir = join(pluginDir, 'artifacts');

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

if (!existsSync(join(distDir, 'plugin.json'))) {
  fail(`${distDir}/plugin.json is missing: run \`npm run build -w plugin\` first`);
}
const pluginJson = JSON.parse(readFileSync(join(distDir, 'plugin.json'), 'utf8'));
const { id } = pluginJson;
const version = pluginJson.info?.version;
const pkgVersion = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8')).version;
if (!/^[a-z0-9]+(-[a-z0-9]+)+$/.test(id ?? '')) {
  fail(`dist/plugin.json has an unexpected id ${JSON.stringify(id)}`);
}
if (version !== pkgVersion) {
  fail(`dist/plugin.json says version ${version}, package.json ${pkgVersion}: rebuild (npm run build -w plugin)`);
}

// Stage dist/ as <id>/ so the archive has exactly one root directory named after the plugin.
const stage = mkdtempSync(join(tmpdir(), 'authwatch-package-'));
try {
  cpSync(distDir, join(stage, id), { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const zipPath = join(outDir, `${id}-${version}.zip`);
  rmSync(zipPath, { force: true });
  // -X: no extra file attributes (uid/gid), -r: recurse, -9: best compression, -q: quiet.
  const zip = spawnSync('zip', ['-X', '-r', '-9', '-q', zipPath, id], { cwd: stage, stdio: 'inherit' });
  if (zip.error || zip.status !== 0) {
    fail(`zip failed (${zip.error?.message ?? `exit ${zip.status}`}); install it with \`apt-get install zip\``);
  }
  const bytes = readFileSync(zipPath);
  for (const algorithm of ['sha1', 'sha256']) {
    const sum = createHash(algorithm).update(bytes).digest('hex');
    writeFileSync(`${zipPath}.${algorithm}`, `${sum}  ${basename(zipPath)}\n`);
  }
  const listing = spawnSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' });
  const files = listing.status === 0 ? listing.stdout.trim().split('\n').sort() : [];
  console.log(`${zipPath} (${bytes.length} bytes, ${files.length} entries)`);
  console.log(`${zipPath}.sha1   ${readFileSync(`${zipPath}.sha1`, 'utf8').split(' ')[0]}`);
  console.log(`${zipPath}.sha256 ${readFileSync(`${zipPath}.sha256`, 'utf8').split(' ')[0]}`);
  for (const f of files) {
    console.log(`  ${f}`);
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
