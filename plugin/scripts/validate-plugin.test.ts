// The validator-rules script against small plugin archives made here: a clean one passes with only
// the unsigned-plugin warning, and each defect the issue found (and a few more) is reported by the
// analyzer Grafana's validator would report it with.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const script = join(__dirname, 'validate-plugin.mjs');
const zipMissing = spawnSync('zip', ['-v']).error
  ? 'the zip command is not installed (apt-get install zip unzip)'
  : undefined;
if (zipMissing && process.env.CI === 'true') {
  throw new Error(`validator tests need zip in CI: ${zipMissing}`);
}
if (zipMissing) {
  console.log(`SKIPPING validator tests: ${zipMissing}`);
}
const run = zipMissing ? describe.skip : describe;

const ID = 'acme-demo-app';
const APACHE = [
  '                                 Apache License',
  '                           Version 2.0, January 2004',
  '   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION',
  '   Copyright 2026 Acme',
].join('\n');
// A 1×1 PNG.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082',
  'hex'
);
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>';
const MODULE_SOURCE = "import { AppPlugin } from '@grafana/data';\nexport const plugin = new AppPlugin();\n";

type Files = Record<string, string | Buffer | null>;

function meta(type: string, id: string, extra: object = {}) {
  return {
    type,
    name: `Demo ${type}`,
    id,
    info: {
      description: 'A demo',
      keywords: ['demo'],
      author: { name: 'Acme' },
      logos: { small: 'img/logo.svg', large: 'img/logo.svg' },
      screenshots: type === 'app' ? [{ name: 'Overview', path: 'img/shot.png' }] : undefined,
      version: '1.2.0',
      updated: '2026-11-26',
    },
    dependencies: { grafanaDependency: '>=12.3.0', plugins: [] },
    ...extra,
  };
}

function sourceMap(sources: Array<[string, string]>) {
  return JSON.stringify({
    version: 3,
    sources: sources.map(([s]) => s),
    sourcesContent: sources.map(([, c]) => c),
    mappings: '',
  });
}

/** A plugin that passes: an app with a nested panel, source maps that match src/. */
function cleanPlugin(): Files {
  return {
    'plugin.json': JSON.stringify(
      meta('app', ID, { includes: [{ type: 'panel', name: 'Demo panel', path: 'panel/plugin.json' }] })
    ),
    'module.js': 'define(["@grafana/data"],function(){});',
    'module.js.map': sourceMap([
      [`webpack://${ID}/./module.ts`, MODULE_SOURCE],
      [`webpack://${ID}/./node_modules/@tanstack/react-virtual/dist/esm/index.js`, 'export {};'],
      [`webpack://${ID}/external amd "react"`, 'module.exports = x;'],
    ]),
    'panel/plugin.json': JSON.stringify(meta('panel', 'acme-demo-panel')),
    'panel/module.js': 'define([],function(){});',
    'panel/module.js.map': sourceMap([[`webpack://${ID}/./panel/module.ts`, 'export const panel = 1;\n']]),
    'panel/img/logo.svg': SVG,
    'img/logo.svg': SVG,
    'img/shot.png': PNG,
    LICENSE: APACHE,
    'CHANGELOG.md': '# Changelog\n\n## 1.2.0\n\nFirst release.\n',
    'README.md': '# Demo\n\nShows demo data. See [the docs](https://example.com/docs).\n',
  };
}

function cleanSource(): Files {
  return {
    'package.json': JSON.stringify({ name: 'demo', version: '1.2.0', scripts: { build: 'webpack' } }),
    '.config/webpack/webpack.config.ts': '// THIS FILE WAS SCAFFOLDED BY `@grafana/create-plugin`\n',
    'src/module.ts': MODULE_SOURCE,
    'src/panel/module.ts': 'export const panel = 1;\n',
  };
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'validate-test-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function write(dir: string, files: Files) {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) {
      continue;
    }
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

interface Result {
  analyzer: string;
  severity: string;
  rule: string;
  message: string;
}

/** Zips `plugin` under `rootName` (plus `extraTop` entries), writes `source`, runs the script. */
function validate(plugin: Files, source: Files = cleanSource(), rootName = ID, extraTop: Files = {}) {
  const stage = join(work, 'stage');
  write(join(stage, rootName), plugin);
  write(stage, extraTop);
  write(join(work, 'source'), source);
  const zip = join(work, 'plugin.zip');
  rmSync(zip, { force: true });
  const z = spawnSync('zip', ['-q', '-r', zip, '.'], { cwd: stage });
  expect(z.status).toBe(0);
  const r = spawnSync(process.execPath, [script, zip, '--source', join(work, 'source'), '--json', '--strict'], {
    encoding: 'utf8',
  });
  const out = JSON.parse(r.stdout) as { results: Result[]; errors: number };
  const problems = out.results.filter((x) => x.severity === 'error' || x.severity === 'warning');
  return { status: r.status, problems, rules: problems.map((p) => `${p.analyzer}/${p.rule}`) };
}

run('validator rules', () => {
  test('a clean plugin: 0 errors, only the unsigned-plugin warning, exit 0', () => {
    const r = validate(cleanPlugin());
    expect(r.rules).toEqual(['manifest/unsigned-plugin']);
    expect(r.status).toBe(0);
  });

  test('includes for the nested plugin without a path: includesnested error (the 2 errors the issue found)', () => {
    const plugin = cleanPlugin();
    plugin['plugin.json'] = JSON.stringify(meta('app', ID, { includes: [{ type: 'panel', name: 'Demo panel' }] }));
    const r = validate(plugin);
    expect(r.rules).toContain('includesnested/nested-plugins-not-declared');
    expect(r.status).toBe(1);
  });

  test('LICENSE with the template placeholders, no screenshots: warnings that fail --strict', () => {
    const plugin = cleanPlugin();
    plugin.LICENSE = `${APACHE}\n   Copyright {yyyy} {name of copyright owner}\n`;
    plugin['plugin.json'] = JSON.stringify({
      ...meta('app', ID, { includes: [{ type: 'panel', name: 'Demo panel', path: 'panel/plugin.json' }] }),
      info: { ...meta('app', ID).info, screenshots: [] },
    });
    const r = validate(plugin);
    expect(r.rules.sort()).toEqual([
      'license/license-with-generic-text',
      'manifest/unsigned-plugin',
      'screenshots/screenshots',
    ]);
    expect(r.status).toBe(1);
  });

  test('a source map listing hoisted ../../node_modules paths: jsMap error', () => {
    const plugin = cleanPlugin();
    plugin['panel/module.js.map'] = sourceMap([
      [`webpack://${ID}/./panel/module.ts`, 'export const panel = 1;\n'],
      [`webpack://${ID}/../../node_modules/@tanstack/virtual-core/dist/esm/index.js`, 'export {};'],
    ]);
    const r = validate(plugin);
    expect(r.problems.find((p) => p.rule === 'js-map-no-match')?.message).toContain(
      '../../node_modules/@tanstack/virtual-core'
    );
  });

  test('a source map whose source differs from src/: jsMap error', () => {
    const source = cleanSource();
    source['src/module.ts'] = `${MODULE_SOURCE}// changed after the build\n`;
    expect(validate(cleanPlugin(), source).rules).toContain('jsMap/js-map-no-match');
  });

  test('window.__grafanaSceneContext and window.confirm in src/: code-rules errors; tests are not scanned', () => {
    const source = cleanSource();
    source['src/panel/refresh.ts'] =
      'export const r = () => (window as any).__grafanaSceneContext;\nexport const c = () => window.confirm("x");\n';
    source['src/panel/refresh.test.ts'] = 'console.log(window.__grafanaSceneContext);\n';
    const r = validate(cleanPlugin(), source);
    expect(r.rules.filter((x) => x.startsWith('code-rules')).sort()).toEqual([
      'code-rules/code-rules-native-browser-dialogs',
      'code-rules/code-rules-window-properties',
    ]);
  });

  test('CHANGELOG naming another version than the plugin: changelog error', () => {
    const plugin = cleanPlugin();
    plugin['CHANGELOG.md'] = '# Changelog\n\n## 1.0.0 (Unreleased)\n';
    expect(validate(plugin).rules).toContain('changelog/changelog-version');
  });

  test('package.json version differs from plugin.json: packagejson error', () => {
    const source = cleanSource();
    source['package.json'] = JSON.stringify({ name: 'demo', version: '1.1.0' });
    expect(validate(cleanPlugin(), source).rules).toContain('packagejson/packagecode-version-mismatch');
  });

  test('archive layout: a second top-level entry, a root named dist, a dist/ inside', () => {
    expect(validate(cleanPlugin(), cleanSource(), ID, { 'notes.txt': 'x' }).rules).toContain(
      'archive/more-than-one-dir'
    );
    rmSync(join(work, 'stage'), { recursive: true, force: true });
    expect(validate(cleanPlugin(), cleanSource(), 'dist').rules).toContain('archivename/no-ident-root-dir');
    rmSync(join(work, 'stage'), { recursive: true, force: true });
    expect(validate({ ...cleanPlugin(), 'dist/module.js': 'x' }).rules).toContain('archive/dist');
  });

  test('plugin.json breaking the rules: unknown key, bad id, missing logo file, script in an SVG', () => {
    const plugin = cleanPlugin();
    plugin['panel/plugin.json'] = JSON.stringify({ ...meta('panel', 'demo_panel'), autoUpdate: true });
    plugin['panel/img/logo.svg'] =
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>';
    plugin['img/logo.svg'] = null;
    const r = validate(plugin);
    expect(r.problems.filter((p) => p.analyzer === 'metadatavalid').map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('autoUpdate: additional property'),
        expect.stringContaining('does not match org-name-type'),
      ])
    );
    expect(r.rules).toEqual(
      expect.arrayContaining([
        'metadatapaths/path-not-exists',
        'unsafesvg/unsafe-svg-file',
        'typesuffix/plugin-type-suffix',
      ])
    );
  });

  test('a tracking host in a bundle and a relative README link are errors', () => {
    const plugin = cleanPlugin();
    plugin['module.js'] = 'define([],function(){fetch("https://www.google-analytics.com/collect")});';
    plugin['README.md'] = '# Demo\n\nSee [install](docs/install.md).\n';
    expect(validate(plugin).rules).toEqual(
      expect.arrayContaining(['trackingscripts/tracking-scripts', 'brokenlinks/relative-link'])
    );
  });
});

// The zip `npm run package` made (CI makes it before the tests): Grafana's offline rules pass with
// 0 errors and only the unsigned-plugin warning.
const artifacts = join(__dirname, '..', 'artifacts');
const version = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;
const packaged = join(artifacts, `authwatch-monitor-app-${version}.zip`);
const packagedMissing = existsSync(packaged) ? undefined : `${packaged} not built (npm run package -w plugin)`;
if (packagedMissing && process.env.CI === 'true' && !zipMissing) {
  throw new Error(`CI packages the plugin before the tests: ${packagedMissing}`);
}
if (packagedMissing) {
  console.log(`SKIPPING the packaged-zip test: ${packagedMissing}`);
}

(packagedMissing || zipMissing ? describe.skip : describe)('the packaged plugin', () => {
  test('zip layout: one authwatch-monitor-app/ directory with the app, datasource/ and panel/, checksums beside it', () => {
    const entries = spawnSync('unzip', ['-Z1', packaged], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(new Set(entries.map((e) => e.split('/')[0]))).toEqual(new Set(['authwatch-monitor-app']));
    for (const f of [
      'plugin.json',
      'module.js',
      'module.js.map',
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'datasource/plugin.json',
      'datasource/module.js',
      'panel/plugin.json',
      'panel/module.js',
      'img/screenshot-sessions.png',
    ]) {
      expect(entries).toContain(`authwatch-monitor-app/${f}`);
    }
    expect(readdirSync(artifacts)).toEqual(
      expect.arrayContaining([
        `authwatch-monitor-app-${version}.zip.sha1`,
        `authwatch-monitor-app-${version}.zip.sha256`,
      ])
    );
  });

  test('validator rules: 0 errors, the only warning is unsigned-plugin', () => {
    const r = spawnSync(process.execPath, [script, packaged, '--checksum', `${packaged}.sha1`, '--json', '--strict'], {
      encoding: 'utf8',
    });
    const out = JSON.parse(r.stdout) as { results: Result[] };
    const problems = out.results
      .filter((x) => x.severity === 'error' || x.severity === 'warning')
      .map((p) => `${p.analyzer}/${p.rule}: ${p.message}`);
    expect(problems).toEqual([expect.stringMatching(/^manifest\/unsigned-plugin: /)]);
    expect(r.status).toBe(0);
    expect(out.results.find((x) => x.analyzer === 'checksum')?.severity).toBe('ok');
  });
});
