// The committed dashboards are exactly what the generator makes now, they name no data source uid
// (only data source variables), they open with the provisioned data sources in the provisioned
// stack and with whatever data sources another Grafana has, and panel types exist in Grafana or
// in our plugin.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DASHBOARD_DIR, IMPORT_DIR, renderDashboards, renderImportDashboards } from '../dashboards-src/generate';
import { alertNames } from '../dashboards-src/collector-health';

const root = join(__dirname, '..', '..');

/** Panel types Grafana 12 ships (public/app/plugins/panel) plus the row pseudo-panel. */
const CORE_PANEL_TYPES = new Set([
  'alertlist', 'annolist', 'barchart', 'bargauge', 'candlestick', 'canvas', 'dashlist', 'datagrid', 'flamegraph',
  'gauge', 'geomap', 'gettingstarted', 'heatmap', 'histogram', 'logs', 'news', 'nodeGraph', 'piechart', 'row',
  'stat', 'state-timeline', 'status-history', 'table', 'text', 'timeseries', 'traces', 'trend', 'welcome', 'xychart',
]);

/** Data source uids Grafana always has. */
const BUILTIN_DS_UIDS = new Set(['grafana', '-- Grafana --', '-- Mixed --', '-- Dashboard --', '__expr__']);

interface DsRef {
  type?: string;
  uid?: string;
}

interface PanelJson {
  type: string;
  title?: string;
  datasource?: DsRef;
  targets?: Array<{ datasource?: DsRef; expr?: string; queryType?: string }>;
  panels?: PanelJson[];
}

interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating?: { list?: TemplateVariable[] };
  annotations?: { list?: Array<{ name: string; datasource?: DsRef; target?: { datasource?: DsRef } }> };
}

interface DataSourceSettings {
  uid: string;
  name: string;
  type: string;
}

function provisionedDataSources(): DataSourceSettings[] {
  const dir = join(root, 'provisioning', 'datasources');
  const list: DataSourceSettings[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parse(readFileSync(join(dir, file), 'utf8')) as { datasources?: DataSourceSettings[] };
    list.push(...(doc.datasources ?? []));
  }
  return list;
}

interface TemplateVariable {
  name: string;
  type?: string;
  query?: string;
  current?: { text?: unknown; value?: unknown };
  datasource?: DsRef;
}

/**
 * Which data source a data source variable selects when the dashboard opens (Grafana's rule, from
 * @grafana/scenes DataSourceVariable + MultiValueVariable): the options are the data sources of
 * the variable's plugin type; the current value wins if it is one of their uids, then the option
 * whose name equals the current text, else the first option.
 */
function resolveDataSourceVariable(v: TemplateVariable, list: DataSourceSettings[]): string | undefined {
  const options = list.filter((d) => d.type === v.query).map((d) => ({ value: d.uid, label: d.name }));
  return (options.find((o) => o.value === v.current?.value) ?? options.find((o) => o.label === v.current?.text) ?? options[0])?.value;
}

/**
 * Grafana's dashboard import (pkg/services/dashboardimport): every `${NAME}` of an `__inputs` entry,
 * in any string of the JSON, becomes the input's value; `__inputs` is dropped; a missing input fails.
 */
function importDashboard(template: Record<string, unknown>, inputs: Array<{ name: string; type: string; value: string }>): unknown {
  const values = new Map<string, string>();
  for (const def of (template.__inputs as Array<{ name: string; type: string }> | undefined) ?? []) {
    const input = inputs.find((i) => i.type === def.type && (i.name === def.name || i.name === '*'));
    if (!input) throw new Error(`Dashboard input variable: ${def.name} missing from import command`);
    values.set(`\${${def.name}}`, input.value);
  }
  const evaluate = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(/\$\{.+?\}/g, (m) => values.get(m) ?? m);
    if (Array.isArray(v)) return v.map(evaluate);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => k !== '__inputs').map(([k, x]) => [k, evaluate(x)]));
    }
    return v;
  };
  return evaluate(template);
}

/** Every place (path) where the provisioned uids appear as a value; tags are words, not references. */
function uidMentions(json: unknown, path = ''): string[] {
  if (typeof json === 'string') return /^(authwatch|authwatch-prometheus)$/.test(json) && !/\.tags\[\d+\]$/.test(path) ? [`${path} = ${json}`] : [];
  if (Array.isArray(json)) return json.flatMap((x, i) => uidMentions(x, `${path}[${i}]`));
  if (json && typeof json === 'object') return Object.entries(json).flatMap(([k, x]) => uidMentions(x, `${path}.${k}`));
  return [];
}

function pluginIds(type: 'panel' | 'datasource'): Set<string> {
  const ids = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name === 'plugin.json') {
        const p = JSON.parse(readFileSync(join(dir, entry.name), 'utf8')) as { id: string; type: string };
        if (p.type === type) ids.add(p.id);
      }
    }
  };
  walk(join(root, 'plugin', 'src'));
  return ids;
}

function dataSourceRefs(d: DashboardJson): Array<{ where: string; ref: DsRef }> {
  const refs: Array<{ where: string; ref: DsRef }> = [];
  const visit = (p: PanelJson): void => {
    if (p.datasource) refs.push({ where: `panel "${p.title}"`, ref: p.datasource });
    for (const t of p.targets ?? []) if (t.datasource) refs.push({ where: `query of panel "${p.title}"`, ref: t.datasource });
    for (const child of p.panels ?? []) visit(child);
  };
  d.panels.forEach(visit);
  for (const v of d.templating?.list ?? []) if (v.datasource) refs.push({ where: `variable $${v.name}`, ref: v.datasource });
  for (const a of d.annotations?.list ?? []) {
    if (a.datasource) refs.push({ where: `annotation "${a.name}"`, ref: a.datasource });
    if (a.target?.datasource) refs.push({ where: `annotation "${a.name}" query`, ref: a.target.datasource });
  }
  return refs;
}

const rendered = renderDashboards();
const dashboards = Object.entries(rendered).map(([file, text]) => ({ file, json: JSON.parse(text) as DashboardJson }));

describe('generated dashboards', () => {
  test.each(Object.keys(rendered))('committed %s equals a fresh generation (run `npm run dashboards` after changing the generator)', (file) => {
    const committed = readFileSync(join(DASHBOARD_DIR, file), 'utf8');
    expect(committed).toBe(rendered[file]);
  });

  test('every data source reference is a data source variable of the dashboard, of the right type', () => {
    const problems: string[] = [];
    for (const { file, json } of dashboards) {
      const variables = new Map((json.templating?.list ?? []).filter((v) => v.type === 'datasource').map((v) => [v.name, v.query]));
      for (const { where, ref } of dataSourceRefs(json)) {
        if (!ref.uid || BUILTIN_DS_UIDS.has(ref.uid)) continue;
        const name = /^\$\{(\w+)\}$/.exec(ref.uid)?.[1];
        if (!name || !variables.has(name)) problems.push(`${file}: ${where} uses data source uid "${ref.uid}", not a data source variable`);
        else if (ref.type && ref.type !== variables.get(name)) problems.push(`${file}: ${where} says type ${ref.type}, $${name} holds ${variables.get(name)}`);
      }
    }
    expect(problems).toEqual([]);
    // The Authwatch data source type is our nested plugin's id.
    expect(pluginIds('datasource').has(provisionedDataSources().find((d) => d.uid === 'authwatch')?.type ?? '')).toBe(true);
  });

  test('no dashboard names a provisioned data source uid (authwatch, authwatch-prometheus) anywhere', () => {
    for (const text of [...Object.values(rendered), ...Object.values(renderImportDashboards())]) {
      expect(uidMentions(JSON.parse(text))).toEqual([]);
    }
  });

  test('the provisioned stack opens each dashboard with its provisioned data sources selected', () => {
    const provisioned = provisionedDataSources();
    for (const { file, json } of dashboards) {
      for (const v of (json.templating?.list ?? []).filter((x) => x.type === 'datasource')) {
        const expected = provisioned.find((d) => d.type === v.query && ['authwatch', 'authwatch-prometheus'].includes(d.uid));
        expect({ file, variable: v.name, uid: resolveDataSourceVariable(v, provisioned) }).toEqual({ file, variable: v.name, uid: expected?.uid });
      }
    }
  });

  test('imported with no inputs from the app\'s Dashboards tab into another Grafana, they pick that Grafana\'s data sources', () => {
    const other = [
      { uid: 'P1809F7CD0C75ACF3', name: 'Prometheus (prod)', type: 'prometheus' },
      { uid: 'k8s9w2LkVz', name: 'Security logins', type: 'authwatch-activity-datasource' },
      { uid: 'aaa-loki', name: 'Loki', type: 'loki' },
    ];
    for (const { file } of dashboards) {
      // What the app's Dashboards tab does: POST /api/dashboards/import with the plugin's file and inputs: [].
      const imported = importDashboard(JSON.parse(rendered[file]), []) as DashboardJson;
      for (const v of (imported.templating?.list ?? []).filter((x) => x.type === 'datasource')) {
        expect(resolveDataSourceVariable(v, other)).toBe(other.find((d) => d.type === v.query)!.uid);
      }
    }
  });

  test.each(Object.keys(renderImportDashboards()))(
    'provisioning/dashboards-import/%s imported with data sources of other uids: every reference follows, none to authwatch/authwatch-prometheus left',
    (file) => {
      const template = JSON.parse(renderImportDashboards()[file]) as DashboardJson & { __inputs: Array<{ name: string; type: string; pluginId: string }> };
      expect(template.__inputs.length).toBeGreaterThan(0);
      const chosen = new Map([
        ['authwatch-activity-datasource', 'imported-authwatch-7f3a'],
        ['prometheus', 'imported-prom-91bc'],
      ]);
      // What Dashboards → New → Import sends: one input per __inputs entry, valued with the chosen uid.
      const inputs = template.__inputs.map((i) => ({ name: i.name, type: i.type, pluginId: i.pluginId, value: chosen.get(i.pluginId)! }));
      const imported = importDashboard(template, inputs) as DashboardJson;
      expect(JSON.stringify(imported)).not.toContain('${DS_');
      expect(uidMentions(imported)).toEqual([]);
      const list = [...chosen].map(([type, uid]) => ({ type, uid, name: `Some ${type}` }));
      const variables = (imported.templating?.list ?? []).filter((x) => x.type === 'datasource');
      expect(variables.length).toBeGreaterThan(0);
      for (const v of variables) {
        expect(resolveDataSourceVariable(v, list)).toBe(chosen.get(v.query!));
      }
      // Every panel, query, variable and annotation reference goes through one of those variables.
      for (const { ref } of dataSourceRefs(imported)) {
        if (ref.uid && !BUILTIN_DS_UIDS.has(ref.uid)) expect(variables.map((v) => `\${${v.name}}`)).toContain(ref.uid);
      }
    },
  );

  test.each(Object.keys(renderImportDashboards()))('committed dashboards-import/%s equals a fresh generation', (file) => {
    expect(readFileSync(join(IMPORT_DIR, file), 'utf8')).toBe(renderImportDashboards()[file]);
  });

  test("the app's dashboard includes carry the dashboards' uids (the Login activity nav link needs it)", () => {
    const pluginJson = JSON.parse(readFileSync(join(root, 'plugin', 'src', 'plugin.json'), 'utf8')) as {
      includes: Array<{ type: string; path?: string; uid?: string; addToNav?: boolean }>;
    };
    const includes = pluginJson.includes.filter((i) => i.type === 'dashboard');
    expect(includes.map((i) => i.path).sort()).toEqual(Object.keys(rendered).map((f) => `dashboards/${f}`).sort());
    for (const inc of includes) {
      const json = JSON.parse(readFileSync(join(root, 'plugin', 'src', inc.path!), 'utf8')) as DashboardJson;
      expect(inc.uid).toBe(json.uid);
    }
    expect(includes.some((i) => i.addToNav && i.uid === 'authwatch-login-activity')).toBe(true);
  });

  test('every panel type is a Grafana core panel or one of our plugin panels', () => {
    const ours = pluginIds('panel');
    expect(ours.has('authwatch-sessions-panel')).toBe(true);
    const unknown = dashboards.flatMap(({ file, json }) =>
      json.panels.filter((p) => !CORE_PANEL_TYPES.has(p.type) && !ours.has(p.type)).map((p) => `${file}: "${p.title}" has type ${p.type}`),
    );
    expect(unknown).toEqual([]);
  });

  test('Login activity has the panels an operator looks for', () => {
    const la = dashboards.find((d) => d.json.uid === 'authwatch-login-activity')!.json;
    const byTitle = new Map(la.panels.map((p) => [p.title, p]));
    for (const title of ['Logins', 'Failed logins', 'Failure ratio', 'Active sessions', 'Locked accounts']) {
      expect(byTitle.get(title)?.targets?.[0]?.queryType).toBe('stats');
    }
    expect(la.panels.filter((p) => p.type === 'authwatch-sessions-panel').map((p) => (p as unknown as { options: { mode: string } }).options.mode).sort()).toEqual([
      'lockouts',
      'sessions',
    ]);
    expect(la.panels.map((p) => p.type)).toEqual(expect.arrayContaining(['geomap', 'logs', 'table', 'timeseries']));
    expect((la.templating?.list ?? []).map((v) => v.name)).toEqual(['ds_authwatch', 'user', 'service']);
  });

  test('the alert state panel follows the alert names of the Prometheus rule file', () => {
    const names = alertNames();
    expect(names.length).toBeGreaterThan(0);
    const ch = dashboards.find((d) => d.json.uid === 'authwatch-collector-health')!.json;
    const exprs = ch.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    const alerts = exprs.find((e) => e.includes('ALERTS{'));
    for (const n of names) expect(alerts).toContain(n);
    for (const metric of ['authwatch_events_ingested_total', 'authwatch_events_rejected_total', 'authwatch_http_request_duration_seconds_bucket']) {
      expect(exprs.some((e) => e.includes(metric))).toBe(true);
    }
  });
});
