// Data sources of the dashboards: never a fixed uid. Each dashboard has a data source variable per
// data source type it uses, and every panel, query, variable and annotation points at that
// variable. Grafana opens the dashboard with the variable's current value if it names an existing
// data source, else the one whose name matches current.text, else the first of the type (Grafana's
// data source variable rules), so the provisioned stack opens with its provisioned "Authwatch" and
// "Prometheus" selected and any other Grafana with the data sources it has.

import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as common from '@grafana/grafana-foundation-sdk/common';

export interface DataSourceInput {
  /** Template variable that panels refer to as ${variable}. */
  variable: string;
  /** Import input (Dashboards → New → Import asks for it); substituted as ${input}. */
  input: string;
  label: string;
  pluginId: string;
  pluginName: string;
}

export const AUTHWATCH: DataSourceInput = {
  variable: 'ds_authwatch',
  input: 'DS_AUTHWATCH',
  label: 'Authwatch',
  pluginId: 'authwatch-activity-datasource',
  pluginName: 'Authwatch',
};

export const PROMETHEUS: DataSourceInput = {
  variable: 'ds_prometheus',
  input: 'DS_PROMETHEUS',
  label: 'Prometheus',
  pluginId: 'prometheus',
  pluginName: 'Prometheus',
};

/** The reference panels and queries use: the data source the variable holds. */
export function dsRef(ds: DataSourceInput): common.DataSourceRef {
  return { type: ds.pluginId, uid: `\${${ds.variable}}` };
}

/** The data source variable (current text = the provisioned data source's name, no uid). */
export function dsVariable(ds: DataSourceInput): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder(ds.variable)
    .label(`${ds.label} data source`)
    .type(ds.pluginId)
    .current({ text: ds.label, value: '' });
}

interface DashboardJson {
  templating?: { list?: Array<{ name: string; type: string; current?: { text?: unknown; value?: unknown } }> };
  [key: string]: unknown;
}

/**
 * The same dashboard for Dashboards → New → Import: `__inputs` ask for each data source, and the
 * variables' current value is the chosen one (${DS_…}, replaced by Grafana's import).
 */
export function forImport(json: DashboardJson, inputs: DataSourceInput[], requires: Array<Record<string, string>>): object {
  const copy = JSON.parse(JSON.stringify(json)) as DashboardJson;
  for (const v of copy.templating?.list ?? []) {
    const ds = inputs.find((i) => i.variable === v.name && v.type === 'datasource');
    if (ds) {
      v.current = { text: ds.label, value: `\${${ds.input}}` };
    }
  }
  return {
    __inputs: inputs.map((i) => ({
      name: i.input,
      label: i.label,
      description: `The ${i.pluginName} data source the dashboard reads`,
      type: 'datasource',
      pluginId: i.pluginId,
      pluginName: i.pluginName,
    })),
    __requires: requires,
    ...copy,
  };
}
