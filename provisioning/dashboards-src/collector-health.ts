// "Collector health": is the collector taking events in, refusing any, answering fast, alerting —
// from the metrics Prometheus scrapes off its /metrics.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as commonTypes from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { parse } from 'yaml';
import { dsRef, dsVariable, PROMETHEUS } from './datasources';
import { repoRoot } from './repo-root';

/** The dashboard's Prometheus data source variable (never a fixed uid). */
export const PROMETHEUS_DS: commonTypes.DataSourceRef = dsRef(PROMETHEUS);

/** The collector's scrape job in provisioning/prometheus/prometheus.yml. */
export const SCRAPE_JOB = 'authwatch-collector';

interface RuleFile {
  groups?: Array<{ rules?: Array<{ alert?: string }> }>;
}

/** Our alert names, read from the Prometheus rule file so the panel follows renames. */
export function alertNames(root = repoRoot(__dirname)): string[] {
  const file = parse(readFileSync(join(root, 'provisioning', 'prometheus', 'rules', 'authwatch.rules.yml'), 'utf8')) as RuleFile;
  const names = (file.groups ?? []).flatMap((g) => (g.rules ?? []).map((r) => r.alert)).filter((n): n is string => !!n);
  return [...new Set(names)].sort();
}

const promql = (expr: string, legend: string, refId = 'A') =>
  new prometheus.DataqueryBuilder().datasource(PROMETHEUS_DS).expr(expr).legendFormat(legend).range().refId(refId);

const legend = () =>
  new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom);

function graph(title: string, description: string, unit: string) {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS_DS)
    .unit(unit)
    .fillOpacity(10)
    .legend(legend())
    .height(8)
    .span(12);
}

function gauge(title: string, expr: string, description: string, steps: Array<[number | null, string]>) {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS_DS)
    .withTarget(new prometheus.DataqueryBuilder().datasource(PROMETHEUS_DS).expr(expr).instant().refId('A'))
    .thresholds(
      new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color }))),
    )
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(4)
    .span(6);
}

const RATE = '[$__rate_interval]';

export function collectorHealth(): dashboard.Dashboard {
  const alertSelector = `alertname=~"${alertNames().join('|')}"`;
  return new dashboard.DashboardBuilder('Collector health')
    .uid('authwatch-collector-health')
    .description('Authwatch collector ingest, rejections, request latency and alert state (Prometheus).')
    .tags(['authwatch', 'prometheus'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(dsVariable(PROMETHEUS))
    .withPanel(
      gauge('Collector up', `min(up{job="${SCRAPE_JOB}"})`, 'Whether Prometheus can scrape every collector replica.', [[null, 'red'], [1, 'green']])
        .mappings([{ type: dashboard.MappingType.ValueToText, options: { '0': { text: 'down', index: 0 }, '1': { text: 'up', index: 1 } } }]),
    )
    .withPanel(
      gauge('Events ingested (1h)', `sum(increase(authwatch_events_ingested_total[1h]))`, 'Events accepted in the last hour.', [[null, 'blue']])
        .unit('short')
        .decimals(0),
    )
    .withPanel(gauge('Active sessions', 'sum(authwatch_sessions_active)', 'Sessions open now (all replicas share one store).', [[null, 'blue']]))
    .withPanel(gauge('Locked accounts', 'sum(authwatch_accounts_locked)', 'Locks in force now.', [[null, 'green'], [1, 'red']]))
    .withPanel(
      graph('Ingest rate', 'Events accepted per second, by event type.', 'reqps').withTarget(
        promql(`sum by (type) (rate(authwatch_events_ingested_total${RATE}))`, '{{type}}'),
      ),
    )
    .withPanel(
      graph('Rejections', 'Events refused as invalid, and HTTP client errors by status.', 'reqps')
        .withTarget(promql(`sum(rate(authwatch_events_rejected_total${RATE}))`, 'rejected events'))
        .withTarget(
          promql(`sum by (status) (rate(authwatch_http_request_duration_seconds_count{status=~"4.."}${RATE}))`, 'HTTP {{status}}', 'B'),
        ),
    )
    .withPanel(
      graph('Request latency', 'Collector HTTP request duration quantiles over all routes.', 's')
        .withTarget(promql(`histogram_quantile(0.5, sum by (le) (rate(authwatch_http_request_duration_seconds_bucket${RATE})))`, 'p50'))
        .withTarget(promql(`histogram_quantile(0.95, sum by (le) (rate(authwatch_http_request_duration_seconds_bucket${RATE})))`, 'p95', 'B'))
        .withTarget(promql(`histogram_quantile(0.99, sum by (le) (rate(authwatch_http_request_duration_seconds_bucket${RATE})))`, 'p99', 'C')),
    )
    .withPanel(
      graph('p99 latency by route', 'The slowest routes; the decision API (/v1/check) should stay in single milliseconds.', 's').withTarget(
        promql(
          `histogram_quantile(0.99, sum by (le, route) (rate(authwatch_http_request_duration_seconds_bucket${RATE})))`,
          '{{route}}',
        ),
      ),
    )
    .withPanel(
      graph('Login attempts', 'Login attempts per second by outcome.', 'reqps').withTarget(
        promql(`sum by (outcome) (rate(authwatch_login_attempts_total${RATE}))`, '{{outcome}}'),
      ),
    )
    .withPanel(
      graph('Lockouts and detections', 'New lockouts by scope and detections by kind.', 'short')
        .withTarget(promql(`sum by (scope) (increase(authwatch_lockouts_total${RATE}))`, 'lockout {{scope}}'))
        .withTarget(promql(`sum by (kind) (increase(authwatch_detections_total${RATE}))`, 'detection {{kind}}', 'B')),
    )
    .withPanel(
      new statetimeline.PanelBuilder()
        .title('Alert state')
        .description('Authwatch alert rules that are pending or firing (Prometheus ALERTS series).')
        .datasource(PROMETHEUS_DS)
        .withTarget(promql(`max by (alertname, alertstate) (ALERTS{${alertSelector}})`, '{{alertname}} ({{alertstate}})'))
        .mappings([
          { type: dashboard.MappingType.ValueToText, options: { '1': { text: 'active', color: 'red', index: 0 } } },
        ])
        .showValue(common.VisibilityMode.Never)
        .mergeValues(true)
        .height(8)
        .span(24),
    )
    .build();
}
