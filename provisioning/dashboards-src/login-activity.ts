// "Login activity": who logs in, from where, with what result — from the Authwatch data source.

import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as geomap from '@grafana/grafana-foundation-sdk/geomap';
import * as logs from '@grafana/grafana-foundation-sdk/logs';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { AUTHWATCH_DS, VARIABLE_FILTERS, authwatch } from './authwatch-query';
import { AUTHWATCH, dsVariable } from './datasources';
import type { StatName } from '../../plugin/src/datasource/types';

const thresholds = (steps: Array<[number | null, string]>) =>
  new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));

function statPanel(title: string, name: StatName, description: string, unit: string, steps: Array<[number | null, string]>) {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(AUTHWATCH_DS)
    .withTarget(authwatch({ queryType: 'stats', stats: [name], ...VARIABLE_FILTERS }))
    .unit(unit)
    .thresholds(thresholds(steps))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(4);
}

/** Events table → one row per value of `field`, counted, most first. */
function topFailing(field: 'ip' | 'user', label: string) {
  return new table.PanelBuilder()
    .title(`Top failing ${label === 'IP' ? 'IP addresses' : 'users'}`)
    .description(`Failed logins in the time range, counted per ${label}.`)
    .datasource(AUTHWATCH_DS)
    .withTarget(authwatch({ queryType: 'events', format: 'table', eventType: 'login', outcome: 'failure', limit: 1000, ...VARIABLE_FILTERS }))
    .withTransformation({
      id: 'groupBy',
      options: {
        fields: {
          [field]: { aggregations: [], operation: 'groupby' },
          id: { aggregations: ['count'], operation: 'aggregate' },
        },
      },
    })
    .withTransformation({ id: 'organize', options: { renameByName: { [field]: label, 'id (count)': 'Failures' } } })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'Failures', desc: true }] } })
    .withTransformation({ id: 'limit', options: { limitField: 10 } })
    .height(9);
}

/**
 * Where logins come from, two layers: every login at its city coordinates (when the enrichment data
 * has them and the data source shows details), and logins counted per country (always available:
 * country codes resolve through Grafana's built-in countries gazetteer).
 */
function loginMap() {
  const logins = { queryType: 'events', format: 'table', eventType: 'login', limit: 1000, ...VARIABLE_FILTERS } as const;
  const markerStyle = (size: object, opacity: number) => ({
    size,
    color: { field: 'outcome', fixed: 'blue' },
    opacity,
    symbol: { fixed: 'img/icons/marker/circle.svg', mode: 'fixed' },
  });
  return new geomap.PanelBuilder()
    .title('Login locations')
    .description('Logins by country (sized by count), and each login at its city when coordinates are known.')
    .datasource(AUTHWATCH_DS)
    .withTarget(authwatch(logins).refId('A'))
    .withTarget(authwatch(logins).refId('B'))
    .withTransformation({
      id: 'groupBy',
      filter: { id: 'byRefId', options: 'B' },
      options: {
        fields: {
          country: { aggregations: [], operation: 'groupby' },
          id: { aggregations: ['count'], operation: 'aggregate' },
        },
      },
    })
    .withTransformation({ id: 'organize', filter: { id: 'byRefId', options: 'B' }, options: { renameByName: { 'id (count)': 'Logins' } } })
    .view(new geomap.MapViewConfigBuilder().id('zero').lat(30).lon(10).zoom(1))
    .controls(new geomap.ControlsOptionsBuilder().showZoom(true).mouseWheelZoom(true))
    .basemap(new common.MapLayerOptionsBuilder().type('default').name('Basemap'))
    .layers([
      new common.MapLayerOptionsBuilder()
        .type('markers')
        .name('Logins by country')
        .filterData({ id: 'byRefId', options: 'B' })
        .location(
          new common.FrameGeometrySourceBuilder()
            .mode(common.FrameGeometrySourceMode.Lookup)
            .lookup('country')
            .gazetteer('public/gazetteer/countries.json'),
        )
        .config({
          showLegend: false,
          style: { ...markerStyle({ field: 'Logins', min: 5, max: 30, fixed: 5 }, 0.4), color: { fixed: 'blue' } },
        })
        .tooltip(true),
      new common.MapLayerOptionsBuilder()
        .type('markers')
        .name('Logins (city)')
        .filterData({ id: 'byRefId', options: 'A' })
        .location(new common.FrameGeometrySourceBuilder().mode(common.FrameGeometrySourceMode.Coords).latitude('latitude').longitude('longitude'))
        .config({ showLegend: true, style: markerStyle({ fixed: 6 }, 0.7) })
        .tooltip(true),
    ])
    .tooltip(new geomap.TooltipOptionsBuilder().mode(geomap.TooltipMode.Details))
    .mappings([
      {
        type: dashboard.MappingType.ValueToText,
        options: { success: { color: 'green', index: 0 }, failure: { color: 'red', index: 1 } },
      },
    ])
    .height(10)
    .span(12);
}

export function loginActivity(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('Login activity')
    .uid('authwatch-login-activity')
    .description('Logins, failures, sessions and lockouts reported to the Authwatch collector.')
    .tags(['authwatch', 'security', 'authentication'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(dsVariable(AUTHWATCH))
    .withVariable(
      new dashboard.QueryVariableBuilder('user')
        .label('User')
        .datasource(AUTHWATCH_DS)
        .query('user')
        .definition('user')
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalCaseInsensitiveAsc)
        .multi(true)
        .includeAll(true)
        .current({ text: 'All', value: '$__all' }),
    )
    .withVariable(
      new dashboard.QueryVariableBuilder('service')
        .label('Service')
        .datasource(AUTHWATCH_DS)
        .query('service')
        .definition('service')
        .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
        .sort(dashboard.VariableSort.AlphabeticalCaseInsensitiveAsc)
        .multi(true)
        .includeAll(true)
        .current({ text: 'All', value: '$__all' }),
    )
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .name('Lockouts and admin actions')
        .datasource(AUTHWATCH_DS)
        .enable(true)
        .iconColor('red')
        .target(authwatch({ queryType: 'annotations' })),
    )
    .withRow(new dashboard.RowBuilder('Overview'))
    .withPanel(statPanel('Logins', 'logins', 'Login attempts in the time range.', 'short', [[null, 'blue']]).span(5))
    .withPanel(statPanel('Failed logins', 'failures', 'Failed login attempts in the time range.', 'short', [[null, 'green'], [1, 'orange'], [50, 'red']]).span(5))
    .withPanel(statPanel('Failure ratio', 'failure_ratio', 'Failed / all login attempts.', 'percentunit', [[null, 'green'], [0.2, 'orange'], [0.5, 'red']]).span(5))
    .withPanel(statPanel('Active sessions', 'active_sessions', 'Sessions open now.', 'short', [[null, 'blue']]).span(5))
    .withPanel(statPanel('Locked accounts', 'locked_accounts', 'Accounts, user+IP pairs and IPs locked now.', 'short', [[null, 'green'], [1, 'red']]).span(4))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Failed logins by reason')
        .description('Failed login attempts over time, one series per reason code.')
        .datasource(AUTHWATCH_DS)
        .withTarget(authwatch({ queryType: 'timeseries', groupBy: 'reason', eventType: 'login', outcome: 'failure', ...VARIABLE_FILTERS }))
        .unit('short')
        .drawStyle(common.GraphDrawStyle.Bars)
        .fillOpacity(80)
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
        .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
        .height(9)
        .span(12),
    )
    .withPanel(topFailing('ip', 'IP').span(6))
    .withPanel(topFailing('user', 'User').span(6))
    .withPanel(loginMap())
    .withPanel(
      new dashboard.PanelBuilder()
        .type('authwatch-sessions-panel')
        .title('Open sessions')
        .description('Open sessions; Editors and Admins can end one or all of a user\u2019s sessions.')
        .datasource(AUTHWATCH_DS)
        .withTarget(authwatch({ queryType: 'sessions', sessionState: 'active', limit: 500, ...VARIABLE_FILTERS }))
        .options({ mode: 'sessions', showActions: true, showExport: true })
        .height(10)
        .span(12),
    )
    .withRow(new dashboard.RowBuilder('Lockouts and events'))
    .withPanel(
      new dashboard.PanelBuilder()
        .type('authwatch-sessions-panel')
        .title('Lockouts')
        .description('Locked accounts, user+IP pairs and addresses; Editors and Admins can unlock.')
        .datasource(AUTHWATCH_DS)
        .withTarget(authwatch({ queryType: 'lockouts', lockoutState: 'locked' }))
        .options({ mode: 'lockouts', showActions: true, showExport: false })
        .height(8)
        .span(24),
    )
    .withPanel(
      new logs.PanelBuilder()
        .title('Event log')
        .description('Every event, newest first; failures and lockouts are coloured by level.')
        .datasource(AUTHWATCH_DS)
        .withTarget(authwatch({ queryType: 'events', format: 'logs', limit: 500, ...VARIABLE_FILTERS }))
        .showTime(true)
        .wrapLogMessage(true)
        .enableLogDetails(true)
        .sortOrder(common.LogsSortOrder.Descending)
        .dedupStrategy(common.LogsDedupStrategy.None)
        .height(10)
        .span(24),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Events')
        .description('The same events as a table: Inspect \u2192 Data \u2192 Download CSV exports them.')
        .datasource(AUTHWATCH_DS)
        .withTarget(authwatch({ queryType: 'events', format: 'table', limit: 1000, ...VARIABLE_FILTERS }))
        .filterable(true)
        .sortBy([new common.TableSortByFieldStateBuilder().displayName('Time').desc(true)])
        .height(10)
        .span(24),
    );
  return builder.build();
}
