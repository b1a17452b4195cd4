// The committed dashboards are exactly what the generator makes now, and everything they refer to
// exists: data source uids in provisioning/datasources, panel types in Grafana or in our plugin.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DASHBOARD_DIR, renderDashboards } from '../dashboards-src/generate';
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
  templating?: { list?: Array<{ name: string; datasource?: DsRef }> };
  annotations?: { list?: Array<{ name: string; datasource?: DsRef; target?: { datasource?: DsRef } }> };
}

function provisionedDataSources(): Map<string, string> {
  const dir = join(root, 'provisioning', 'datasources');
  const byUid = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parse(readFileSync(join(dir, file), 'utf8')) as { datasources?: Array<{ uid: string; type: string }> };
    for (const ds of doc.datasources ?? []) byUid.set(ds.uid, ds.type);
  }
  return byUid;
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

  test('every data source a dashboard uses is provisioned with that uid and type', () => {
    const provisioned = provisionedDataSources();
    const problems: string[] = [];
    for (const { file, json } of dashboards) {
      for (const { where, ref } of dataSourceRefs(json)) {
        if (!ref.uid || BUILTIN_DS_UIDS.has(ref.uid)) continue;
        const type = provisioned.get(ref.uid);
        if (!type) problems.push(`${file}: ${where} uses data source uid "${ref.uid}", which provisioning/datasources does not define`);
        else if (ref.type && ref.type !== type) problems.push(`${file}: ${where} says type ${ref.type} for uid ${ref.uid}, provisioned as ${type}`);
      }
    }
    expect(problems).toEqual([]);
    // The Authwatch data source type is our nested plugin's id.
    expect(pluginIds('datasource').has(provisioned.get('authwatch') ?? '')).toBe(true);
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
    expect((la.templating?.list ?? []).map((v) => v.name)).toEqual(['user', 'service']);
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
