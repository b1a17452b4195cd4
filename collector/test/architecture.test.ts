// The architecture's rules as checks over the source tree (docs/architecture.md): configuration is
// read in one place, layers import one way, the two store files hold only connection setup and
// dialect SQL, and the plugin and the client take the wire types from @authwatch/wire. (store/ may
// import pipeline/: the SQLite writer thread runs the pipeline's group-commit body.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'collector/src');

function files(dir: string, ext = /\.tsx?$/): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out;
}

const production = files(SRC).filter((f) => !/\.test\.ts$/.test(f));
const rel = (f: string) => relative(SRC, f);
const layerOf = (f: string) => rel(f).split('/')[0];

/** The collector/src folders a file imports from (relative imports, resolved). */
function importedLayers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
    const target = resolve(dirname(file), m[1] ?? m[2]);
    if (target.startsWith(SRC + '/')) out.push(relative(SRC, target).split('/')[0]);
  }
  return out;
}

test('only config.ts and main.ts read process.env in collector/src', () => {
  const readers = files(SRC).filter((f) => readFileSync(f, 'utf8').includes('process.env')).map(rel).sort();
  expect(readers).toEqual(['config.ts', 'main.ts']);
});

test('layers import one way: nothing below api/ imports it; store/ and schema/ import no upper layer', () => {
  const lower = new Set(['sources', 'processors', 'sinks', 'store', 'schema', 'enrichers', 'pipeline', 'decision', 'telemetry', 'admin', 'http']);
  const wrong: string[] = [];
  for (const f of production) {
    const layer = layerOf(f);
    for (const to of importedLayers(f)) {
      if (lower.has(layer) && to === 'api') wrong.push(`${rel(f)} → api/`);
      if (layer === 'schema' && to !== 'schema') wrong.push(`${rel(f)} → ${to}`);
      if (layer === 'store' && !['store', 'schema', 'log', 'pipeline'].includes(to)) wrong.push(`${rel(f)} → ${to}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('the two store files hold connection setup and dialect SQL only (each under 300 lines)', () => {
  for (const f of ['store/sqlite.ts', 'store/postgres.ts']) {
    const lines = readFileSync(join(SRC, f), 'utf8').split('\n').length;
    expect({ file: f, under300: lines < 300 }).toEqual({ file: f, under300: true });
  }
});

test('the plugin and the client import the wire types; no hand copy of the stored event remains', () => {
  const importsWire = (dir: string) => files(join(ROOT, dir)).filter((f) => readFileSync(f, 'utf8').includes("from '@authwatch/wire'")).length;
  expect(importsWire('plugin/src')).toBeGreaterThan(0);
  expect(importsWire('client/src')).toBeGreaterThan(0);
  expect(importsWire('cli/src')).toBeGreaterThan(0);
  const copies = [...files(join(ROOT, 'plugin/src')), ...files(join(ROOT, 'client/src')), ...files(join(ROOT, 'cli/src'))].filter((f) =>
    /\binterface\s+(StoredEvent|CollectorEvent|StoredEventView|SessionView|LockView)\b/.test(readFileSync(f, 'utf8')),
  );
  expect(copies.map((f) => relative(ROOT, f))).toEqual([]);
});
