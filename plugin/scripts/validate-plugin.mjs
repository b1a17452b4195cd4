#!/usr/bin/env node
// The offline rules of Grafana's plugin validator (github.com/grafana/plugin-validator,
// pkg/analysis/passes), re-implemented for a packaged plugin zip: every analyzer is listed with its
// result. Analyzers that need the network, a Go backend or external tools (virus scan, OSV, LLM
// review, grafana.com look-ups) are listed as skipped with the reason.
//
// Usage: node scripts/validate-plugin.mjs <plugin.zip> [--source <plugin source dir>] [--checksum <sha1 or .sha1 file>]
//                                        [--strict] [--json]
//   --source    the directory holding package.json and src/ (default: this plugin); enables the
//               source-code analyzers (source maps, code rules, package.json, build tools)
//   --strict    exit 1 on any warning other than unsigned-plugin (expected for a private plugin)
// Exit status: 1 when an analyzer reports an error (or, with --strict, an unexpected warning).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const semver = require('semver');
const ts = require('typescript');

const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
function option(name) {
  const i = args.indexOf(name);
  if (i < 0) {
    return undefined;
  }
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) {
    usage(`${name} needs a value`);
  }
  args.splice(i, 2);
  return value;
}
function flag(name) {
  const i = args.indexOf(name);
  if (i >= 0) {
    args.splice(i, 1);
  }
  return i >= 0;
}
function usage(message) {
  console.error(`validate-plugin: ${message}`);
  console.error(
    'usage: node scripts/validate-plugin.mjs <plugin.zip> [--source <dir>] [--checksum <sha1|file>] [--strict] [--json]'
  );
  process.exit(2);
}
const sourceDir = resolve(option('--source') ?? join(here, '..'));
const checksumArg = option('--checksum');
const strict = flag('--strict');
const asJson = flag('--json');
if (args.length !== 1) {
  usage('give exactly one plugin zip');
}
const zipPath = resolve(args[0]);
if (!existsSync(zipPath)) {
  usage(`${zipPath} does not exist`);
}

// ---------------------------------------------------------------------------------------------
// Results

/** @type {Array<{ analyzer: string, severity: 'error'|'warning'|'recommendation'|'ok'|'skipped', rule: string, message: string }>} */
const results = [];
let current = '';
const report = (severity, rule, message) => results.push({ analyzer: current, severity, rule, message });
const error = (rule, message) => report('error', rule, message);
const warning = (rule, message) => report('warning', rule, message);
const recommend = (rule, message) => report('recommendation', rule, message);
const ok = (message) => report('ok', 'ok', message);
const skip = (message) => report('skipped', 'skipped', message);

/** Runs one analyzer; it reports; an analyzer that reported nothing gets the `fine` message. */
function analyzer(name, fine, fn) {
  current = name;
  const before = results.length;
  try {
    fn();
  } catch (err) {
    error('analyzer-crashed', `${name} could not run: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (results.length === before) {
    ok(fine);
  }
}

// ---------------------------------------------------------------------------------------------
// The archive: list it (entries are checked before anything is written), then extract it.

const listing = spawnSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' });
if (listing.error || listing.status !== 0) {
  usage(
    `cannot read ${zipPath} as a zip (${listing.error?.message ?? listing.stderr.trim()}); unzip must be installed`
  );
}
const entries = listing.stdout.split('\n').filter(Boolean);
const unsafeEntries = entries.filter((e) => isAbsolute(e) || e.split(/[\\/]/).includes('..'));
const work = mkdtempSync(join(tmpdir(), 'authwatch-validate-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
if (unsafeEntries.length === 0) {
  const unzip = spawnSync('unzip', ['-q', zipPath, '-d', work], { encoding: 'utf8' });
  if (unzip.status !== 0) {
    usage(`unzip failed: ${unzip.stderr.trim()}`);
  }
}

function walk(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      walk(full, out);
    } else {
      out.push(full);
    }
  }
  return out;
}
const rel = (root, file) => relative(root, file).split(sep).join('/');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

let pluginRoot; // the extracted plugin directory (<work>/<id>)
let files = []; // every file under pluginRoot, relative, with forward slashes
const metadata = new Map(); // relative plugin.json path → parsed object (or Error)

analyzer('archive', 'one root directory, no dist/ inside', () => {
  if (unsafeEntries.length) {
    error('unsafe-paths', `entries that would be written outside the target directory: ${unsafeEntries.join(', ')}`);
    return;
  }
  const top = readdirSync(work);
  if (top.length === 0) {
    error('empty-archive', 'the archive is empty');
  } else if (top.length !== 1) {
    error(
      'more-than-one-dir',
      `the archive holds ${top.length} top-level entries (${top.join(', ')}); it must hold only the plugin directory`
    );
  } else if (!statSync(join(work, top[0])).isDirectory()) {
    error('no-root-dir', `the archive's only entry ${top[0]} is a file, not the plugin directory`);
  } else {
    pluginRoot = join(work, top[0]);
    if (existsSync(join(pluginRoot, 'dist'))) {
      error('dist', 'the plugin directory holds dist/: package the contents of dist/, renamed to the plugin id');
    }
    files = walk(pluginRoot).map((f) => rel(pluginRoot, f));
  }
});

if (pluginRoot) {
  for (const f of files.filter((f) => basename(f) === 'plugin.json')) {
    try {
      metadata.set(f, readJson(join(pluginRoot, f)));
    } catch (err) {
      metadata.set(f, err);
    }
  }
}
const root = metadata.get('plugin.json');
const rootOk = root && !(root instanceof Error) ? root : undefined;
const plugins = [...metadata.entries()].filter(([, m]) => !(m instanceof Error)); // [path, json]
const needRoot = () => {
  if (!rootOk) {
    skip('no readable plugin.json at the archive root');
    return false;
  }
  return true;
};

analyzer('metadata', 'plugin.json at the plugin root parses', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (!root) {
    error('missing-metadata', 'missing plugin.json');
  } else if (root instanceof Error) {
    error('invalid-metadata', `plugin.json does not parse: ${root.message}`);
  }
});

analyzer('archivename', 'root directory named after the plugin id', () => {
  if (!pluginRoot || !needRoot()) {
    return;
  }
  const dir = basename(pluginRoot);
  if (dir === 'dist' || dir !== rootOk.id) {
    error('no-ident-root-dir', `the archive's directory is ${dir}; it must be named ${rootOk.id}`);
  }
});

analyzer('nestedmetadata', 'every plugin.json in the archive parses', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (metadata.size === 0) {
    error('missing-metadata', 'no plugin.json in the archive');
  }
  for (const [f, m] of metadata) {
    if (m instanceof Error) {
      error('invalid-metadata', `${f} does not parse: ${m.message}`);
    }
  }
});

// Grafana's plugin.json rules (docs/sources/developers/plugins/plugin.schema.json), restated:
// required fields, closed sets of keys, enums and patterns that apply to this kind of plugin.
const ID_PATTERN = /^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource|secretsmanager|transformer)$/;
const PLUGIN_TYPES = ['app', 'datasource', 'panel', 'renderer', 'secretsmanager', 'transformer'];
const TOP_KEYS = [
  '$schema',
  'id',
  'type',
  'name',
  'info',
  'dependencies',
  'alerting',
  'annotations',
  'autoEnabled',
  'backend',
  'builtIn',
  'category',
  'enterpriseFeatures',
  'executable',
  'hideFromList',
  'includes',
  'logs',
  'metrics',
  'pascalName',
  'preload',
  'queryOptions',
  'routes',
  'skipDataQuery',
  'state',
  'streaming',
  'tracing',
  'extensions',
  'roles',
  'iam',
  'buildMode',
  'languages',
  'suggestions',
  'multiValueFilterOperators',
];
const INFO_KEYS = ['author', 'build', 'description', 'keywords', 'links', 'logos', 'screenshots', 'updated', 'version'];
const INCLUDE_TYPES = ['dashboard', 'page', 'panel', 'datasource', 'secretsmanager'];
const INCLUDE_KEYS = ['uid', 'type', 'name', 'component', 'role', 'action', 'path', 'addToNav', 'defaultNav', 'icon'];
const ROUTE_KEYS = [
  'path',
  'method',
  'url',
  'reqSignedIn',
  'reqRole',
  'reqAction',
  'headers',
  'body',
  'tokenAuth',
  'jwtTokenAuth',
  'urlParams',
];
const ROLES = ['Admin', 'Editor', 'Viewer'];
const DEPENDENCY_PATTERN =
  /^(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x*]+)(\.[0-9x*]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x]+)(\.[0-9x]+))?$/;

function checkMetadata(file, m) {
  const where = (path) => `${file}: ${path}`;
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const closed = (obj, keys, path) => {
    for (const k of Object.keys(obj)) {
      if (!keys.includes(k)) {
        error('invalid-metadata', where(`${path}${k}: additional property not allowed`));
      }
    }
  };
  for (const k of ['type', 'name', 'id', 'info', 'dependencies']) {
    if (m[k] === undefined) {
      error('invalid-metadata', where(`${k} is required`));
    }
  }
  closed(m, TOP_KEYS, '');
  if (typeof m.id !== 'string' || !ID_PATTERN.test(m.id)) {
    error('invalid-metadata', where(`id ${JSON.stringify(m.id)} does not match org-name-type (${ID_PATTERN})`));
  }
  if (!PLUGIN_TYPES.includes(m.type)) {
    error('invalid-metadata', where(`type ${JSON.stringify(m.type)} is not one of ${PLUGIN_TYPES.join(', ')}`));
  }
  if (typeof m.name !== 'string' || m.name.trim() === '') {
    error('invalid-metadata', where('name must be a non-empty string'));
  }
  const info = m.info;
  if (isObject(info)) {
    closed(info, INFO_KEYS, 'info.');
    for (const k of ['logos', 'version', 'updated', 'keywords']) {
      if (info[k] === undefined) {
        error('invalid-metadata', where(`info.${k} is required`));
      }
    }
    if (!Array.isArray(info.keywords) || info.keywords.length < 1 || info.keywords.some((k) => typeof k !== 'string')) {
      error('invalid-metadata', where('info.keywords must be a list of at least one string'));
    }
    if (typeof info.version !== 'string' || !/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)/.test(info.version)) {
      error(
        'invalid-metadata',
        where(`info.version ${JSON.stringify(info.version)} is not a semantic version (was %VERSION% replaced?)`)
      );
    }
    if (typeof info.updated !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(info.updated)) {
      error('invalid-metadata', where(`info.updated ${JSON.stringify(info.updated)} is not a YYYY-MM-DD date`));
    }
    if (!isObject(info.logos) || typeof info.logos.small !== 'string' || typeof info.logos.large !== 'string') {
      error('invalid-metadata', where('info.logos needs small and large (strings)'));
    } else {
      closed(info.logos, ['small', 'large'], 'info.logos.');
    }
    for (const [i, s] of (info.screenshots ?? []).entries()) {
      if (!isObject(s)) {
        error('invalid-metadata', where(`info.screenshots[${i}] must be an object`));
      } else {
        closed(s, ['name', 'path'], `info.screenshots[${i}].`);
      }
    }
    for (const [i, l] of (info.links ?? []).entries()) {
      if (!isObject(l) || (l.url !== undefined && !/^https?:\/\//.test(l.url))) {
        error('invalid-metadata', where(`info.links[${i}] needs a name and an absolute url`));
      }
    }
    if (info.author !== undefined) {
      if (!isObject(info.author)) {
        error('invalid-metadata', where('info.author must be an object'));
      } else {
        closed(info.author, ['name', 'email', 'url'], 'info.author.');
      }
    }
  } else if (info !== undefined) {
    error('invalid-metadata', where('info must be an object'));
  }
  const deps = m.dependencies;
  if (isObject(deps)) {
    closed(deps, ['grafanaVersion', 'grafanaDependency', 'plugins', 'extensions'], 'dependencies.');
    if (typeof deps.grafanaDependency !== 'string' || !DEPENDENCY_PATTERN.test(deps.grafanaDependency)) {
      error(
        'invalid-metadata',
        where(`dependencies.grafanaDependency ${JSON.stringify(deps.grafanaDependency)} is missing or malformed`)
      );
    }
    for (const [i, p] of (deps.plugins ?? []).entries()) {
      for (const k of ['id', 'name', 'type', 'version']) {
        if (typeof p?.[k] !== 'string') {
          error('invalid-metadata', where(`dependencies.plugins[${i}].${k} is required`));
        }
      }
    }
  }
  for (const [i, inc] of (m.includes ?? []).entries()) {
    closed(inc, INCLUDE_KEYS, `includes[${i}].`);
    if (!INCLUDE_TYPES.includes(inc.type)) {
      error(
        'invalid-metadata',
        where(`includes[${i}].type ${JSON.stringify(inc.type)} is not one of ${INCLUDE_TYPES.join(', ')}`)
      );
    }
    if (inc.role !== undefined && !ROLES.includes(inc.role)) {
      error(
        'invalid-metadata',
        where(`includes[${i}].role ${JSON.stringify(inc.role)} is not one of ${ROLES.join(', ')}`)
      );
    }
  }
  for (const [i, r] of (m.routes ?? []).entries()) {
    closed(r, ROUTE_KEYS, `routes[${i}].`);
    if (r.headers !== undefined && !Array.isArray(r.headers)) {
      error('invalid-metadata', where(`routes[${i}].headers must be a list`));
    }
  }
  if (m.state !== undefined && !['alpha', 'beta'].includes(m.state)) {
    error('invalid-metadata', where(`state must be alpha or beta`));
  }
}

analyzer('metadatavalid', "every plugin.json follows Grafana's plugin.json rules", () => {
  if (plugins.length === 0) {
    return skip('no readable plugin.json');
  }
  for (const [f, m] of plugins) {
    checkMetadata(f, m);
  }
});

analyzer('includesnested', "every nested plugin is declared in the app's includes with its path and type", () => {
  if (!needRoot() || plugins.length === 1) {
    return;
  }
  if (rootOk.type !== 'app') {
    return error(
      'nested-plugin-id-in-non-app',
      `nested plugins are only allowed in app plugins; this one is a ${rootOk.type}`
    );
  }
  for (const [f, m] of plugins) {
    if (f === 'plugin.json') {
      continue;
    }
    const include = (rootOk.includes ?? []).find((inc) => inc.path === f);
    if (!include) {
      error(
        'nested-plugins-not-declared',
        `nested plugin ${f} is not declared in the app's includes (an include with "path": "${f}")`
      );
    } else if (!include.type) {
      error('nested-plugin-missing-type', `the include for ${f} has no type`);
    } else if (include.type !== m.type) {
      error('nested-plugin-type-missmatch', `${f} is declared as ${include.type} but is a ${m.type}`);
    }
  }
});

analyzer('logos', 'small and large logos set for every plugin', () => {
  for (const [f, m] of plugins) {
    for (const size of ['small', 'large']) {
      if (!String(m.info?.logos?.[size] ?? '').trim()) {
        error('logos', `${f}: empty ${size} logo path`);
      }
    }
  }
});

/** Image type from magic bytes (what Go's http.DetectContentType finds for these formats). */
function imageType(file) {
  const b = readFileSync(file).subarray(0, 512);
  if (b[0] === 0x89 && b.subarray(1, 4).toString('latin1') === 'PNG') {
    return 'image/png';
  }
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    return 'image/jpeg';
  }
  if (b.subarray(0, 4).toString('latin1') === 'GIF8') {
    return 'image/gif';
  }
  if (b.toString('utf8').includes('<svg')) {
    return 'image/svg+xml';
  }
  return 'unknown';
}
const EXTENSION_TYPES = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
};

analyzer('screenshots', 'screenshots listed and valid images', () => {
  if (!needRoot()) {
    return;
  }
  const shots = rootOk.info?.screenshots ?? [];
  if (shots.length === 0) {
    return warning('screenshots', 'plugin.json: should include screenshots for the plugin catalog');
  }
  for (const s of shots) {
    const file = join(pluginRoot, String(s.path ?? ''));
    if (!String(s.path ?? '').trim()) {
      warning('screenshots', `screenshot ${JSON.stringify(s.name)} has an empty path`);
    } else if (!existsSync(file)) {
      error('screenshots-image-type', `screenshot ${s.path} is not in the archive`);
    } else {
      const type = imageType(file);
      if (!Object.values(EXTENSION_TYPES).includes(type)) {
        error('screenshots-image-type', `${s.path}: ${type} is not an accepted image type (png, jpeg, gif, svg)`);
      } else if (EXTENSION_TYPES[extname(file).toLowerCase()] !== type) {
        error('screenshots-image-type', `${s.path}: the extension does not match its content (${type})`);
      }
    }
  }
});

analyzer('metadatapaths', 'logo and screenshot paths are relative and exist', () => {
  for (const [f, m] of plugins) {
    const base = dirname(f) === '.' ? '' : `${dirname(f)}/`;
    const paths = [
      ...(m.info?.screenshots ?? []).map((s) => ['screenshot', s.path]),
      ['small logo', m.info?.logos?.small],
      ['large logo', m.info?.logos?.large],
    ];
    for (const [kind, p] of paths) {
      const path = String(p ?? '');
      if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
        error('path-relative-to-metadata', `${f}: ${kind} path should be relative to plugin.json: ${path}`);
      } else if (path.startsWith('.') || path.startsWith('/')) {
        error('invalid-relative-path', `${f}: relative ${kind} path should not start with '.' or '/': ${path}`);
      } else if (path && !files.includes(`${base}${path}`)) {
        error('path-not-exists', `${f}: ${kind} ${base}${path} is not in the archive`);
      }
    }
  }
});

analyzer('modulejs', 'module.js beside every plugin.json', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (!files.some((f) => basename(f) === 'module.js')) {
    return error('missing-modulejs', 'missing module.js');
  }
  for (const [f] of plugins) {
    const module = dirname(f) === '.' ? 'module.js' : `${dirname(f)}/module.js`;
    if (!files.includes(module)) {
      error('missing-modulejs', `${f} has no ${module} beside it`);
    }
  }
});

// Source map file names that are not the plugin's own sources (validator: sourcemap.isIgnoredFile).
function ignoredSource(name) {
  const path = name.split('?')[0];
  return (
    path.includes('/node_modules/.pnpm/') ||
    ['.css', '.scss', '.sass', '.less', '.svg', '.json'].some((ext) => path.endsWith(ext)) ||
    ['external ', 'webpack/', '../node_modules', './node_modules/'].some(
      (p) => path.length > p.length && path.startsWith(p)
    )
  );
}

const srcDir = join(sourceDir, 'src');
const haveSource = existsSync(join(sourceDir, 'package.json')) && existsSync(srcDir);

analyzer('jsMap', 'every module.js has a source map whose sources equal src/', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  const modules = files.filter((f) => basename(f) === 'module.js');
  const maps = modules.map((m) => `${m}.map`);
  const missing = maps.filter((m) => !files.includes(m));
  for (const m of missing) {
    error('js-map-not-found', `missing ${m} in archive`);
  }
  if (missing.length || !haveSource || !rootOk) {
    if (!haveSource) {
      skip(`no source code at ${sourceDir} (give --source)`);
    }
    return;
  }
  const prefix = new RegExp(`^webpack://${rootOk.id}/*|^webpack:/*`);
  let compared = 0;
  for (const m of maps) {
    const map = readJson(join(pluginRoot, m));
    if (!map.sources?.length || !map.sourcesContent?.length || map.sources.length !== map.sourcesContent.length) {
      error('js-map-invalid', `${m}: sources and sourcesContent must both be present and of equal length`);
      continue;
    }
    const differ = [];
    map.sources.forEach((source, i) => {
      const name = source.replace(prefix, '');
      if (ignoredSource(name)) {
        return;
      }
      const file = join(srcDir, name);
      compared++;
      if (!existsSync(file)) {
        differ.push(`${name} (not in src/)`);
      } else if (
        readFileSync(file, 'utf8').replace(/\r\n/g, '\n') !== String(map.sourcesContent[i]).replace(/\r\n/g, '\n')
      ) {
        differ.push(`${name} (differs from src/)`);
      }
    });
    if (differ.length) {
      error('js-map-no-match', `${m}: the source map does not match the source code: ${differ.join(', ')}`);
    }
  }
  if (!results.some((r) => r.analyzer === current)) {
    ok(`${maps.length} source maps, ${compared} sources identical to src/`);
  }
});

// License: the accepted families (SPDX), recognised by the text each license's body carries.
const LICENSES = [
  [
    'Apache-2.0',
    [/Apache License/, /Version 2\.0, January 2004/, /TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/],
  ],
  ['MIT', [/Permission is hereby granted, free of charge/, /THE SOFTWARE IS PROVIDED "AS IS"/]],
  ['BSD', [/Redistribution and use in source and binary forms, with or without\s+modification, are permitted/]],
  ['AGPL-3.0', [/GNU AFFERO GENERAL PUBLIC LICENSE\s+Version 3/]],
  ['LGPL-3.0', [/GNU LESSER GENERAL PUBLIC LICENSE\s+Version 3/]],
  ['GPL-3.0', [/GNU GENERAL PUBLIC LICENSE\s+Version 3/]],
];

analyzer('license', 'LICENSE present, an accepted license, no template placeholders', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (!files.includes('LICENSE')) {
    return error('license-not-provided', 'LICENSE file not found');
  }
  const text = readFileSync(join(pluginRoot, 'LICENSE'), 'utf8');
  const found = LICENSES.find(([, marks]) => marks.every((re) => re.test(text)));
  if (!found) {
    return error('license-not-valid', 'LICENSE is not one of BSD, MIT, Apache 2.0, LGPL3, GPL3, AGPL3');
  }
  if (text.includes('{name of copyright owner}') || text.includes('{yyyy}')) {
    return warning(
      'license-with-generic-text',
      'LICENSE still holds the template placeholders {yyyy} / {name of copyright owner}'
    );
  }
  ok(`${found[0]}, placeholders filled in`);
});

analyzer('changelog', 'CHANGELOG.md present; its newest entry is the plugin version', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (!files.includes('CHANGELOG.md')) {
    return warning('missing-changelog', 'missing CHANGELOG.md');
  }
  const text = readFileSync(join(pluginRoot, 'CHANGELOG.md'), 'utf8');
  if (!text.trim()) {
    return warning('missing-changelog', 'CHANGELOG.md is empty');
  }
  // Our rule on top of the validator's: the first version heading is the version being shipped.
  const heading = /^#{1,3}\s*\[?v?(\d+\.\d+\.\d+[^\]\s]*)\]?/m.exec(text);
  if (rootOk && heading?.[1] !== rootOk.info?.version) {
    error(
      'changelog-version',
      `CHANGELOG.md's newest entry is ${heading?.[1] ?? 'missing'}, the plugin version is ${rootOk.info?.version}`
    );
  }
});

const readme =
  pluginRoot && files.includes('README.md') ? readFileSync(join(pluginRoot, 'README.md'), 'utf8') : undefined;

analyzer('readme', 'README.md present, no HTML comments', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (readme === undefined || !readme.trim()) {
    return error('missing-readme', readme === undefined ? 'missing README.md' : 'README.md is empty');
  }
  if (/<!--(.*?)-->/s.test(readme)) {
    warning('readme-comment', 'README.md contains comment(s)');
  }
});

analyzer('templatereadme', 'README.md is not the create-plugin template', () => {
  if (readme && /Grafana (Panel|Data Source|Datasource|App|Data Source Backend) Plugin Template/i.test(readme)) {
    error('template-readme', 'README.md uses the README of the plugin template');
  }
});

analyzer('jargon', 'README.md has no developer jargon', () => {
  const found = ['yarn', 'nodejs'].filter((w) => readme?.includes(w));
  if (found.length) {
    warning('developer-jargon', `README.md contains developer jargon: (${found.join(', ')})`);
  }
});

analyzer('brokenlinks', 'README.md links are absolute (whether they resolve needs the network: not checked)', () => {
  for (const m of (readme ?? '').matchAll(/\[.+?\]\((.+?)\)/g)) {
    const target = m[1].trim().split(/\s+/)[0];
    if (!target.startsWith('#') && !target.startsWith('mailto:') && !/^https?:\/\//.test(target)) {
      error('relative-link', `README.md: convert relative link to absolute: ${target}`);
    }
  }
});

analyzer('discoverability', 'description and keywords set', () => {
  if (!needRoot()) {
    return;
  }
  if (!rootOk.info?.description) {
    warning('empty-description', 'plugin.json: description is empty');
  }
  if (!rootOk.info?.keywords?.length) {
    warning('empty-keywords', 'plugin.json: keywords are empty');
  }
});

analyzer('pluginname', 'human-friendly name, id of the form org-name-type', () => {
  if (!needRoot()) {
    return;
  }
  if (rootOk.id && rootOk.name && rootOk.id === rootOk.name) {
    error('human-friendly-name', 'plugin.json: the plugin name should be human-friendly, not the id');
  }
  if (String(rootOk.id).split('-').length < 3) {
    warning('invalid-id-format', 'plugin.json: plugin id should follow the format org-name-type');
  }
});

analyzer('typesuffix', 'every plugin id ends with its type', () => {
  for (const [f, m] of plugins) {
    const parts = String(m.id ?? '').split('-');
    if (m.type && parts[parts.length - 1] !== m.type) {
      error('plugin-type-suffix', `${f}: plugin id ${m.id} should end with -${m.type}`);
    }
  }
});

analyzer('grafanadependency', 'dependencies.grafanaDependency is a valid range', () => {
  for (const [f, m] of plugins) {
    const range = m.dependencies?.grafanaDependency;
    if (typeof range !== 'string' || !semver.validRange(range)) {
      error(
        'invalid-grafana-dependency',
        `${f}: dependencies.grafanaDependency ${JSON.stringify(range)} is not a valid version range`
      );
    }
  }
});

analyzer('restrictivedep', 'grafanaDependency is an open range', () => {
  if (!needRoot()) {
    return;
  }
  const range = String(rootOk.dependencies?.grafanaDependency ?? '');
  if (/^[0-9]+.[0-9]+.x$/.test(range)) {
    warning(
      'depends-on-patch-releases',
      `plugin.json: grafanaDependency only targets patch releases of Grafana ${range.slice(0, -2)}`
    );
  } else if (/^[0-9]+.[0-9]+.[0-9]+$/.test(range)) {
    warning('depends-on-single-release', `plugin.json: grafanaDependency only targets Grafana ${range}`);
  }
});

analyzer('version', 'plugin version is semver (comparison with grafana.com needs the network: not checked)', () => {
  if (needRoot() && !semver.valid(rootOk.info?.version)) {
    error('wrong-plugin-version', `plugin version ${JSON.stringify(rootOk.info?.version)} is invalid`);
  }
});

const sourcePackage = haveSource ? readJson(join(sourceDir, 'package.json')) : undefined;

analyzer('packagejson', 'package.json version equals plugin.json version', () => {
  if (!haveSource) {
    return skip(`no source code at ${sourceDir} (give --source)`);
  }
  if (needRoot() && sourcePackage.version !== rootOk.info?.version) {
    error(
      'packagecode-version-mismatch',
      `package.json says ${sourcePackage.version}, plugin.json ${rootOk.info?.version}`
    );
  }
});

analyzer('legacybuilder', 'not built with grafana-toolkit', () => {
  if (!haveSource) {
    return skip('no source code');
  }
  for (const [name, script] of Object.entries(sourcePackage.scripts ?? {})) {
    if (String(script).includes('grafana-toolkit ')) {
      error('legacy-builder', `script ${name} uses the retired grafana-toolkit`);
    }
  }
});

analyzer('buildtools', "built with create-plugin's webpack config", () => {
  if (!haveSource) {
    return skip('no source code');
  }
  const config = join(sourceDir, '.config', 'webpack', 'webpack.config.ts');
  if (!existsSync(config) || !readFileSync(config, 'utf8').includes('@grafana/create-plugin')) {
    error('non-standard-frontend-build-tooling', 'no .config/webpack/webpack.config.ts from @grafana/create-plugin');
  }
});

analyzer('manifest', 'MANIFEST.txt (signature)', () => {
  if (!pluginRoot) {
    return skip('no plugin directory');
  }
  if (!files.includes('MANIFEST.txt')) {
    return warning(
      'unsigned-plugin',
      'unsigned plugin: no MANIFEST.txt. Expected for a private plugin: Grafana loads it once its ids are in allow_loading_unsigned_plugins'
    );
  }
  const text = readFileSync(join(pluginRoot, 'MANIFEST.txt'), 'utf8');
  if (!text.trim()) {
    return error('empty-manifest', 'MANIFEST.txt is empty');
  }
  const body = /-----BEGIN PGP SIGNED MESSAGE-----[\s\S]*?\n\n([\s\S]*?)\n-----BEGIN PGP SIGNATURE-----/.exec(
    text
  )?.[1];
  let manifest;
  try {
    manifest = JSON.parse(body ?? '');
  } catch {
    return error('wrong-manifest', 'could not parse MANIFEST.txt');
  }
  for (const f of files.filter((f) => f !== 'MANIFEST.txt')) {
    const want = manifest.files?.[f];
    if (!want) {
      error('undeclared-files', `${f} is not declared in MANIFEST.txt`);
    } else if (
      createHash('sha256')
        .update(readFileSync(join(pluginRoot, f)))
        .digest('hex') !== String(want).toLowerCase()
    ) {
      error('invalid-sha-sum', `checksum for ${f} is invalid`);
    }
  }
  for (const f of Object.keys(manifest.files ?? {})) {
    if (!files.includes(f)) {
      error('undeclared-files', `${f} is declared in MANIFEST.txt but not in the archive`);
    }
  }
});

analyzer('signature', 'signature verified', () => {
  if (!files.includes('MANIFEST.txt')) {
    return skip('no MANIFEST.txt: nothing to verify (see manifest)');
  }
  skip("verifying the PGP signature needs grafana.com's public key (network)");
});

// SVG: no elements that run or embed content, no event-handler attributes (validator: svgvalidate).
const SVG_FORBIDDEN = [
  'annotation-xml',
  'audio',
  'colgroup',
  'iframe',
  'math',
  'mi',
  'mn',
  'mo',
  'ms',
  'mtext',
  'noembed',
  'noframes',
  'noscript',
  'plaintext',
  'script',
  'template',
  'thead',
  'xmp',
];

analyzer('unsafesvg', 'SVG files hold no scripts, embeds or event handlers', () => {
  for (const f of files.filter((f) => f.toLowerCase().endsWith('.svg'))) {
    const text = readFileSync(join(pluginRoot, f), 'utf8');
    for (const m of text.matchAll(/<\/?\s*([a-zA-Z][\w:.-]*)([^>]*)>/g)) {
      const element = m[1].split(':').pop().toLowerCase();
      if (SVG_FORBIDDEN.includes(element)) {
        error('unsafe-svg-file', `${f}: element <${m[1]}> is not allowed`);
      }
      for (const a of m[2].matchAll(/([\w:.-]+)\s*=/g)) {
        if (a[1].toLowerCase().startsWith('on')) {
          error('unsafe-svg-file', `${f}: attribute ${a[1]} is not allowed`);
        }
      }
    }
  }
});

// Tracking: the validator matches URLs in module.js against a block list of tracking hosts; this
// lists every absolute URL host in the bundles and refuses the well-known analytics networks.
const TRACKING_HOSTS = [
  'google-analytics.com',
  'googletagmanager.com',
  'doubleclick.net',
  'googlesyndication.com',
  'segment.io',
  'segment.com',
  'mixpanel.com',
  'hotjar.com',
  'amplitude.com',
  'fullstory.com',
  'heapanalytics.com',
  'newrelic.com',
  'nr-data.net',
  'intercom.io',
  'intercomcdn.com',
  'hubspot.com',
  'hs-analytics.net',
  'matomo.cloud',
  'clarity.ms',
  'quantserve.com',
  'scorecardresearch.com',
  'facebook.net',
  'connect.facebook.net',
  'ipinfo.io',
  'mouseflow.com',
  'crazyegg.com',
  'optimizely.com',
  'pendo.io',
  'logrocket.io',
  'smartlook.com',
  'statcounter.com',
  'yandex.ru',
];

analyzer('trackingscripts', 'no tracking scripts in the bundles', () => {
  const hosts = new Set();
  for (const f of files.filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(join(pluginRoot, f), 'utf8').matchAll(/https?:\/\/([^\s"'`/\\)]+)/g)) {
      const host = m[1].toLowerCase();
      hosts.add(host);
      if (TRACKING_HOSTS.some((t) => host === t || host.endsWith(`.${t}`))) {
        error('tracking-scripts', `${f}: tracking URL host ${host}`);
      }
    }
  }
  if (!results.some((r) => r.analyzer === current)) {
    ok(`no tracking hosts; URL hosts in the bundles: ${[...hosts].sort().join(', ') || 'none'}`);
  }
});

analyzer('legacyplatform', 'no AngularJS (the legacy plugin platform)', () => {
  for (const f of files.filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(pluginRoot, f), 'utf8');
    const deps = /define\(\s*(\[[^\]]*\])/.exec(text);
    if (deps && JSON.parse(deps[1]).includes('angular')) {
      error('legacy-platform', `${f}: imports angular`);
    }
    for (const name of ['PanelCtrl', 'MetricsPanelCtrl', 'QueryCtrl', 'ConfigCtrl', 'AnnotationsQueryCtrl']) {
      if (new RegExp(`\\b(export|exports\\.)\\s*\\w*${name}\\b|\\b${name}\\s*:`).test(text)) {
        error('legacy-platform', `${f}: exports the AngularJS ${name}`);
      }
    }
  }
});

analyzer('backendbinary', 'backend, executable and alerting declared consistently', () => {
  for (const [f, m] of plugins) {
    if (m.alerting && !m.backend) {
      error('alerting-found-but-backend-false', `${f}: alerting is true but backend is false`);
    }
    if (m.executable && !m.backend) {
      error('backend-found-but-not-declared', `${f}: executable declared but backend is false`);
    }
    if (m.backend && !m.executable) {
      error('backend-binary-mission', `${f}: backend is true but no executable`);
    }
    if (
      m.executable &&
      !files.some((x) => x.startsWith(`${dirname(f) === '.' ? '' : `${dirname(f)}/`}${m.executable}`))
    ) {
      error('backend-binary-mission', `${f}: no ${m.executable}* binary in the archive`);
    }
  }
  if (plugins.every(([, m]) => !m.backend && !m.executable)) {
    ok('frontend-only plugins (no backend)');
  }
});

analyzer('backenddebug', 'no standalone debug files', () => {
  for (const f of files.filter((f) => ['standalone.txt', 'pid.txt'].includes(basename(f)))) {
    error('backend-debug-file-present', `${f} must not be shipped`);
  }
});

analyzer('binarypermissions', 'executables are executable', () => {
  for (const [f, m] of plugins.filter(([, m]) => m.executable)) {
    const dir = dirname(f) === '.' ? '' : `${dirname(f)}/`;
    for (const bin of files.filter((x) => x.startsWith(`${dir}${m.executable}`))) {
      if ((statSync(join(pluginRoot, bin)).mode & 0o111) === 0) {
        error('binary-executable-permissions', `${bin} is not executable`);
      }
    }
  }
});

analyzer('circulardependencies', 'no plugin depends on itself or on a plugin that depends on it', () => {
  const byId = new Map(plugins.map(([, m]) => [m.id, m]));
  for (const m of byId.values()) {
    for (const dep of m.dependencies?.plugins ?? []) {
      if (dep.id === m.id || (byId.get(dep.id)?.dependencies?.plugins ?? []).some((d) => d.id === m.id)) {
        error('circular-dependency', `circular dependency: ${m.id} -> ${dep.id}`);
      }
    }
  }
});

analyzer('sponsorshiplink', 'sponsorship link', () => {
  if (needRoot() && !(rootOk.info?.links ?? []).some((l) => /sponsor/i.test(l.name ?? ''))) {
    recommend('sponsorshiplink', 'no sponsorship link in info.links (optional; not used for a private plugin)');
  }
});

analyzer('checksum', 'checksum given matches the archive', () => {
  if (!checksumArg) {
    return skip('no --checksum given');
  }
  const text = existsSync(checksumArg) ? readFileSync(checksumArg, 'utf8') : checksumArg;
  const given = text.trim().split(/\s+/)[0].toLowerCase();
  const algorithm = { 32: 'md5', 40: 'sha1', 64: 'sha256' }[given.length];
  if (!algorithm) {
    return error('checksum-format-error', `${given} is not an MD5, SHA-1 or SHA-256 checksum`);
  }
  const actual = createHash(algorithm).update(readFileSync(zipPath)).digest('hex');
  if (actual !== given) {
    return error('checksum-invalid', `the ${algorithm} checksum ${given} does not match the archive (${actual})`);
  }
  ok(`${algorithm} ${given} matches`);
});

// ---------------------------------------------------------------------------------------------
// Code rules (the validator runs semgrep with its rule file over the source): the JavaScript and
// TypeScript rules, matched on the TypeScript syntax tree of src/**/*.ts(x) outside tests.

const RESTRICTED_WINDOW = ['grafanaBootData', 'grafanaRuntime', '__grafanaSceneContext'];

function codeRuleFindings(file, text) {
  const found = [];
  const at = (node) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return `${file}:${line + 1}`;
  };
  const push = (severity, rule, node, message) => found.push({ severity, rule, where: at(node), message });
  const sf = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS
  );
  const name = (n) => (ts.isIdentifier(n) || ts.isPrivateIdentifier(n) ? n.text : undefined);
  // `window`, also behind parentheses and type assertions: (window as unknown as X).prop
  const isWindow = (n) => {
    while (
      ts.isParenthesizedExpression(n) ||
      ts.isAsExpression(n) ||
      ts.isTypeAssertionExpression(n) ||
      ts.isNonNullExpression(n) ||
      ts.isSatisfiesExpression(n)
    ) {
      n = n.expression;
    }
    return ts.isIdentifier(n) && (n.text === 'window' || n.text === 'globalThis' || n.text === 'self');
  };
  const visit = (node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        callee.expression.text === 'console'
      ) {
        const method = name(callee.name);
        if (
          [
            'log',
            'info',
            'table',
            'clear',
            'count',
            'countReset',
            'dir',
            'dirxml',
            'group',
            'groupEnd',
            'time',
            'timeEnd',
            'timeLog',
            'trace',
          ].includes(method)
        ) {
          push('warning', 'console-logging', node, `console.${method}(): plugins should not log to the console`);
        }
      }
      if (ts.isIdentifier(callee) && callee.text === 'alert') {
        push('error', 'native-browser-dialogs', node, 'alert(): use Grafana UI components instead of native dialogs');
      }
      if (ts.isPropertyAccessExpression(callee) && isWindow(callee.expression)) {
        const method = name(callee.name);
        if (['alert', 'confirm', 'prompt'].includes(method)) {
          push(
            'error',
            'native-browser-dialogs',
            node,
            `window.${method}(): use Grafana UI components (ConfirmModal) instead`
          );
        }
        if (method === 'open') {
          const features = node.arguments[2];
          const text = features && ts.isStringLiteralLike(features) ? features.text : '';
          if (!(text.includes('noopener') && text.includes('noreferrer'))) {
            push('error', 'window-open-without-noopener', node, "window.open() without 'noopener,noreferrer'");
          }
        }
      }
    }
    if (ts.isPropertyAccessExpression(node)) {
      if (isWindow(node.expression) && RESTRICTED_WINDOW.includes(name(node.name))) {
        push('error', 'window-properties', node, `access to the restricted window property window.${name(node.name)}`);
      }
      if (name(node.name) === 'topnav' && /featureToggles$/.test(node.expression.getText(sf))) {
        push('error', 'topnav-toggle', node, 'featureToggles.topnav is deprecated');
      }
      if (
        ['search', 'href'].includes(name(node.name)) &&
        ts.isPropertyAccessExpression(node.expression) &&
        isWindow(node.expression.expression) &&
        name(node.expression.name) === 'location'
      ) {
        push(
          'warning',
          'direct-window-location-access',
          node,
          `window.location.${name(node.name)}: use locationService from @grafana/runtime`
        );
      }
    }
    if (
      ts.isElementAccessExpression(node) &&
      isWindow(node.expression) &&
      ts.isStringLiteralLike(node.argumentExpression)
    ) {
      if (RESTRICTED_WINDOW.includes(node.argumentExpression.text)) {
        push(
          'error',
          'window-properties',
          node,
          `access to the restricted window property window.${node.argumentExpression.text}`
        );
      }
    }
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const from = node.moduleSpecifier.text;
      if (/\.(css|scss|less)$/.test(from)) {
        push('error', 'no-direct-css-imports', node, `direct CSS import ${from}: use emotion's css()`);
      }
      const named = node.importClause?.namedBindings;
      if (
        from === '@emotion/react' &&
        named &&
        ts.isNamedImports(named) &&
        named.elements.some((e) => e.name.text === 'Global')
      ) {
        push('error', 'no-direct-css-imports', node, "Emotion's Global component is not permitted");
      }
    }
    if ((ts.isJsxOpeningElement(node) || ts.isJsxSelfClosingElement(node)) && node.tagName.getText(sf) === 'Global') {
      push('error', 'no-direct-css-imports', node, "Emotion's <Global> is not permitted");
    }
    if (
      ts.isClassDeclaration(node) &&
      node.heritageClauses?.some((h) => h.types.some((t) => /^DataSourceWithBackend\b/.test(t.expression.getText(sf))))
    ) {
      if (node.members.some((m) => ts.isMethodDeclaration(m) && name(m.name) === 'testDatasource')) {
        push(
          'error',
          'backend-datasource-should-not-implement-testdatasource',
          node,
          'a backend data source must not implement testDatasource()'
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // Rules that semgrep applies as plain text patterns.
  const textRules = [
    [
      /__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED/g,
      'warning',
      'access-old-react-internals',
      "React's internal API",
    ],
    [/gf-form/g, 'warning', 'deprecated-gf-form-css-classes', 'deprecated gf-form CSS classes'],
    [/@ts-ignore|@ts-expect-error/g, 'warning', 'ts-ignore-suppress', '@ts-ignore / @ts-expect-error'],
    [/\/api\/ds\/query/g, 'error', 'no-api-ds-query-endpoint', "direct use of '/api/ds/query'"],
  ];
  for (const [re, severity, rule, message] of textRules) {
    for (const m of text.matchAll(re)) {
      const { line } = sf.getLineAndCharacterOfPosition(m.index);
      found.push({ severity, rule, where: `${file}:${line + 1}`, message });
    }
  }
  return found;
}

analyzer('code-rules', 'no code rule violations in src/', () => {
  if (!haveSource) {
    return skip('no source code');
  }
  const sources = walk(srcDir)
    .map((f) => rel(sourceDir, f))
    .filter((f) => /\.(ts|tsx)$/.test(f) && !/\.(spec|test)\.tsx?$/.test(f) && !f.endsWith('.d.ts'));
  for (const f of sources) {
    for (const v of codeRuleFindings(f, readFileSync(join(sourceDir, f), 'utf8'))) {
      report(v.severity, `code-rules-${v.rule}`, `${v.where}: ${v.message}`);
    }
  }
  if (!results.some((r) => r.analyzer === current)) {
    ok(`${sources.length} source files, no violations`);
  }
});

// ---------------------------------------------------------------------------------------------
// Analyzers that cannot run here, and why.

const offline = [
  ['published-plugin', 'asks grafana.com whether the plugin is published (network)'],
  [
    'org',
    'asks grafana.com whether the org in the id exists (network; the org is not on grafana.com for a private plugin)',
  ],
  ['safelinks', 'checks info.links with Google Web Risk (network, API key); plugin.json has no links'],
  ['osv-scanner', 'needs osv-scanner and the OSV database (network)'],
  ['virusscan', 'needs clamscan and its signature database'],
  ['provenance', 'checks a GitHub build attestation (network)'],
  ['llmreview / codediff', 'LLM review (network, API key)'],
  ['plugindocs', 'only for plugins with docsPath (none here)'],
  [
    'reactcompat',
    'runs npx @grafana/react-detect (network); React 19 is exercised instead by the browser harness under Grafana 13 packages',
  ],
  ['sdkusage / go-manifest / gosec / govulncheck', 'Go backend analyzers: this plugin has no backend'],
];
for (const [name, why] of offline) {
  current = name;
  skip(why);
}

// ---------------------------------------------------------------------------------------------
// Output

const ALLOWED_WARNINGS = ['unsigned-plugin'];
const count = (s) => results.filter((r) => r.severity === s).length;
const errors = count('error');
const warnings = results.filter((r) => r.severity === 'warning');
const unexpected = warnings.filter((w) => !ALLOWED_WARNINGS.includes(w.rule));
if (asJson) {
  console.log(JSON.stringify({ zip: zipPath, entries, results, errors, warnings: warnings.length }, null, 2));
} else {
  console.log(
    `Grafana plugin validator rules (offline re-implementation) on ${relative(process.cwd(), zipPath) || zipPath}`
  );
  const label = { error: 'ERROR', warning: 'WARN', recommendation: 'RECOMMEND', ok: 'ok', skipped: 'skipped' };
  const width = Math.max(...results.map((r) => r.analyzer.length));
  for (const r of results) {
    const rule = ['ok', 'skipped'].includes(r.severity) ? '' : `[${r.rule}] `;
    console.log(`${label[r.severity].padEnd(9)} ${r.analyzer.padEnd(width)}  ${rule}${r.message}`);
  }
  const analyzers = new Set(results.map((r) => r.analyzer)).size;
  console.log(
    `${analyzers} analyzers: ${errors} error${errors === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` +
      ` (${warnings.map((w) => w.rule).join(', ') || 'none'}), ${count('recommendation')} recommendation(s), ${count('skipped')} skipped`
  );
}
process.exit(errors > 0 || (strict && unexpected.length > 0) ? 1 : 0);
