// Grafana-managed alert rules (provisioning/alerting) against their Prometheus twins: same PromQL,
// same `for`, same severity, the team-wide Prometheus data source uid, and a contact point and
// notification policy that Grafana can load.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO, RULES_FILE } from './prometheus-support';

/** Fixed team-wide (PRODUCT/team brief); the data source file must provision this uid. */
const PROMETHEUS_UID = 'authwatch-prometheus';
const ALERTING_DIR = join(REPO, 'provisioning', 'alerting');
const DATASOURCES_DIR = join(REPO, 'provisioning', 'datasources');

interface PromRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}
interface GrafanaQuery {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: { from: number; to: number };
  model: {
    expr?: string;
    instant?: boolean;
    type?: string;
    expression?: string;
    conditions?: { evaluator: { type: string; params: number[] } }[];
  };
}
interface GrafanaRule {
  uid: string;
  title: string;
  condition: string;
  data: GrafanaQuery[];
  for: string;
  noDataState: string;
  execErrState: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertingFile {
  apiVersion: number;
  groups?: { orgId: number; name: string; folder: string; interval: string; rules: GrafanaRule[] }[];
  contactPoints?: { orgId: number; name: string; receivers: { uid: string; type: string; settings: Record<string, string> }[] }[];
  policies?: { orgId: number; receiver: string; routes?: { receiver: string }[] }[];
}

const normalise = (promql: string) => promql.replace(/\s+/g, ' ').trim();

function alertingFiles(): AlertingFile[] {
  return readdirSync(ALERTING_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => YAML.parse(readFileSync(join(ALERTING_DIR, f), 'utf8')) as AlertingFile);
}

const promRules: PromRule[] = (YAML.parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: PromRule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const files = alertingFiles();
const grafanaRules = files.flatMap((f) => (f.groups ?? []).flatMap((g) => g.rules));

/** The uid of the provisioned Prometheus data source, or the fixed constant when that file is not there yet. */
function prometheusUid(): { uid: string; source: string } {
  if (existsSync(DATASOURCES_DIR)) {
    for (const f of readdirSync(DATASOURCES_DIR).filter((n) => /\.ya?ml$/.test(n))) {
      const doc = YAML.parse(readFileSync(join(DATASOURCES_DIR, f), 'utf8')) as { datasources?: { type: string; uid: string }[] };
      const prom = doc.datasources?.find((d) => d.type === 'prometheus');
      if (prom) return { uid: prom.uid, source: `provisioning/datasources/${f}` };
    }
  }
  console.warn(`provisioning/datasources has no Prometheus data source yet; checking against the fixed uid "${PROMETHEUS_UID}"`);
  return { uid: PROMETHEUS_UID, source: 'team constant' };
}

describe('Grafana alert rules mirror the Prometheus rules', () => {
  test('every file is apiVersion 1', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f.apiVersion).toBe(1);
  });

  test('one Grafana rule per Prometheus alert, same titles', () => {
    expect(grafanaRules.map((r) => r.title).sort()).toEqual(promRules.map((r) => r.alert).sort());
    expect(new Set(grafanaRules.map((r) => r.uid)).size).toBe(grafanaRules.length);
  });

  test.each(promRules.map((r) => [r.alert, r] as const))('%s: same PromQL, for and severity', (_name, prom) => {
    const g = grafanaRules.find((r) => r.title === prom.alert)!;
    const query = g.data.find((d) => d.model.expr !== undefined)!;
    expect(normalise(query.model.expr!)).toBe(normalise(prom.expr));
    expect(query.model.instant).toBe(true);
    expect(g.for).toBe(prom.for ?? '0s');
    expect(g.labels?.severity).toBe(prom.labels?.severity);
    expect(g.annotations?.summary).toBeTruthy();
    expect(g.annotations?.description).toBeTruthy();
  });

  test('queries go to the provisioned Prometheus data source uid', () => {
    const { uid, source } = prometheusUid();
    console.log(`Prometheus data source uid "${uid}" (from ${source})`);
    expect(uid).toBe(PROMETHEUS_UID);
    for (const g of grafanaRules) {
      const queries = g.data.filter((d) => d.model.expr !== undefined);
      expect(queries.map((q) => q.datasourceUid)).toEqual([uid]);
    }
  });

  test('condition: a threshold "> 0" on the query; no data means OK (the PromQL only returns firing series)', () => {
    for (const g of grafanaRules) {
      const cond = g.data.find((d) => d.refId === g.condition)!;
      const query = g.data.find((d) => d.model.expr !== undefined)!;
      expect(cond.datasourceUid).toBe('__expr__');
      expect(cond.model).toMatchObject({ type: 'threshold', expression: query.refId });
      expect(cond.model.conditions?.[0].evaluator).toEqual({ type: 'gt', params: [0] });
      expect(g.noDataState).toBe('OK');
      expect(g.execErrState).toBe('Error');
    }
  });

  test('a webhook contact point with its URL from the environment, used by the notification policy', () => {
    const points = files.flatMap((f) => f.contactPoints ?? []);
    const webhook = points.flatMap((p) => p.receivers.map((r) => ({ point: p.name, ...r }))).find((r) => r.type === 'webhook');
    expect(webhook?.settings.url).toMatch(/^\$__env\{[A-Z_]+\}$/);
    const policies = files.flatMap((f) => f.policies ?? []);
    expect(policies).toHaveLength(1);
    const receivers = [policies[0].receiver, ...(policies[0].routes ?? []).map((r) => r.receiver)];
    for (const r of receivers) expect(points.map((p) => p.name)).toContain(r);
  });
});
