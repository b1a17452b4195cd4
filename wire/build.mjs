#!/usr/bin/env node
// Builds @authwatch/wire: tsc → dist/ (CommonJS + .d.ts), then every named schema as a JSON Schema
// file in dist/schemas/<Name>.json. Runs as `prepare`, so `npm ci` leaves the package usable.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  // A production install (npm ci --omit=dev, the collector image's deps stage) has no compiler;
  // there dist/ comes from the build stage.
  console.log('@authwatch/wire: typescript is not installed (production install); dist/ not built');
  process.exit(0);
}

rmSync(join(here, 'dist'), { recursive: true, force: true });
const run = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

const { WIRE_SCHEMAS } = require(join(here, 'dist', 'index.js'));
const out = join(here, 'dist', 'schemas');
mkdirSync(out, { recursive: true });
for (const [name, schema] of Object.entries(WIRE_SCHEMAS)) {
  // TypeBox schemas are JSON Schema; JSON.stringify drops TypeBox's symbol keys.
  const doc = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(schema)), $id: name };
  writeFileSync(join(out, `${name}.json`), JSON.stringify(doc, null, 2) + '\n');
}
console.log(`@authwatch/wire: dist/ and ${Object.keys(WIRE_SCHEMAS).length} JSON Schema files in dist/schemas/`);
