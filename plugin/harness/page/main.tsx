// Entry of the harness page bundle: installs the AMD loader and Grafana's runtime services, then
// exposes window.authwatchHarness, which the browser tests drive (load the built plugins, run the
// built data source's queries, render the built panel inside Grafana's PanelChrome).
import React, { useEffect, useState } from 'react';
import { createRoot, Root } from 'react-dom/client';
import {
  AppPlugin,
  type AppPluginMeta,
  PluginContextProvider,
  type BusEventType,
  type DataSourceSettings,
  applyFieldOverrides,
  createTheme,
  DataFrame,
  DataQuery,
  DataQueryRequest,
  DataQueryResponse,
  dateTime,
  EventBusSrv,
  FieldType,
  LoadingState,
  PanelData,
  PanelPlugin,
  PanelProps,
  standardEditorsRegistry,
  TimeRange,
  toDataFrame,
} from '@grafana/data';
import { config, getAppEvents, getBackendSrv, getDataSourceSrv, setAppEvents } from '@grafana/runtime';
import { GlobalStyles, PanelChrome, ThemeContext } from '@grafana/ui';
import { MemoryRouter } from 'react-router-dom-v5-compat';
import { isObservable, lastValueFrom, from } from 'rxjs';

import { importModule, installDefine, provideShared, sharedNames } from './amd';
import { installRuntime } from './runtime';
import { sharedModules } from './shared';

installDefine();
provideShared(sharedModules);
installRuntime();
setAppEvents(new EventBusSrv());
// Grafana core registers its option editors at boot; panels' option builders look them up by id.
// The harness renders no options pane, so each id only needs to exist.
const editorIds = ['text', 'strings', 'number', 'slider', 'boolean', 'radio', 'select', 'multi-select', 'unit', 'color', 'field-name', 'links', 'mappings', 'thresholds', 'interval', 'timezone', 'stats-picker', 'fieldColor', 'color-scheme', 'custom'];
standardEditorsRegistry.setInit(() => editorIds.map((id) => ({ id, name: id, editor: () => null })));

export interface SerializedFrame {
  name?: string;
  refId?: string;
  meta?: unknown;
  fields: Array<{ name: string; type: FieldType; values: unknown[]; config: unknown }>;
}

function serialize(frame: DataFrame): SerializedFrame {
  return {
    name: frame.name,
    refId: frame.refId,
    meta: frame.meta,
    fields: frame.fields.map((f) => ({ name: f.name, type: f.type, values: Array.from(f.values), config: f.config })),
  };
}

function lastHours(hours: number): TimeRange {
  const to = dateTime();
  const from = dateTime(to.valueOf() - hours * 3600_000);
  return { from, to, raw: { from: `now-${hours}h`, to: 'now' } };
}

let requestCounter = 0;

/** Runs queries through the data source's query() exactly as a dashboard panel would. */
async function runQueries(dsName: string, targets: DataQuery[], range: TimeRange): Promise<PanelData> {
  const ds = await getDataSourceSrv().get(dsName);
  const settings = getDataSourceSrv().getInstanceSettings(dsName)!;
  const request: DataQueryRequest<DataQuery> = {
    requestId: `harness-${++requestCounter}`,
    interval: '1m',
    intervalMs: 60_000,
    maxDataPoints: 500,
    range,
    rangeRaw: range.raw,
    scopedVars: {},
    targets: targets.map((t) => ({ ...t, datasource: { uid: settings.uid, type: settings.type } })),
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  };
  try {
    const result = ds.query(request);
    const response: DataQueryResponse = isObservable(result) ? await lastValueFrom(result) : await lastValueFrom(from(result));
    const errors = response.errors ?? (response.error ? [response.error] : undefined);
    return {
      state: errors?.length ? LoadingState.Error : LoadingState.Done,
      series: (response.data ?? []).map((d) => toDataFrame(d)),
      errors,
      timeRange: range,
      request,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : JSON.stringify(err);
    return { state: LoadingState.Error, series: [], errors: [{ message }], timeRange: range, request };
  }
}

interface PanelState {
  plugin: PanelPlugin;
  title: string;
  options: Record<string, unknown>;
  data: PanelData;
  theme: 'light' | 'dark';
  width: number;
  height: number;
  version: number;
  /** A new mount is a new panel (fresh component state); a refresh keeps it. */
  mountId: number;
}

let root: Root | undefined;
let setPanelState: ((s: PanelState) => void) | undefined;
let current: (PanelState & { dsName: string; targets: DataQuery[]; range: TimeRange }) | undefined;
let renderedWaiter: ((ms: number) => void) | undefined;
let changedEvents = 0;

function HarnessPanel({ state }: { state: PanelState }) {
  const theme = createTheme({ colors: { mode: state.theme } });
  const Panel = state.plugin.panel as React.ComponentType<PanelProps>;
  const series = applyFieldOverrides({
    data: state.data.series,
    fieldConfig: { defaults: {}, overrides: [] },
    fieldConfigRegistry: state.plugin.fieldConfigRegistry,
    replaceVariables: (v: string) => v,
    theme,
    timeZone: 'utc',
  });
  useEffect(() => {
    // Resolves the render timer once the browser has painted the committed rows.
    requestAnimationFrame(() => {
      const done = renderedWaiter;
      renderedWaiter = undefined;
      done?.(performance.now());
    });
  }, [state.version]);
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div
        data-testid="harness-canvas"
        data-theme={state.theme}
        style={{ padding: 16, background: theme.colors.background.canvas, width: state.width + 32 }}
      >
        <PanelChrome title={state.title} width={state.width} height={state.height} loadingState={state.data.state}>
          {(innerWidth, innerHeight) => (
            <Panel
              key={state.mountId}
              id={1}
              data={{ ...state.data, series }}
              timeRange={state.data.timeRange}
              timeZone="utc"
              options={state.options}
              fieldConfig={{ defaults: {}, overrides: [] }}
              transparent={false}
              width={innerWidth}
              height={innerHeight}
              renderCounter={state.version}
              title={state.title}
              eventBus={getAppEvents()}
              onOptionsChange={() => {}}
              onFieldConfigChange={() => {}}
              onChangeTimeRange={() => {}}
              replaceVariables={(v: string) => v}
            />
          )}
        </PanelChrome>
      </div>
    </ThemeContext.Provider>
  );
}

function App({ initial }: { initial: PanelState }) {
  const [state, setState] = useState(initial);
  setPanelState = setState;
  return <HarnessPanel state={state} />;
}

/** Sets new panel state and resolves with the ms until the browser painted it. */
function showPanel(state: PanelState): Promise<number> {
  const start = performance.now();
  const painted = new Promise<number>((resolve) => (renderedWaiter = resolve));
  if (!root) {
    root = createRoot(document.getElementById('root')!);
  }
  if (!setPanelState) {
    root.render(<App initial={state} />);
  } else {
    setPanelState(state);
  }
  return painted.then((end) => end - start);
}

/** Renders something other than the panel (an app page, a config editor) in Grafana's theme. */
function showElement(element: React.ReactElement, themeMode: 'light' | 'dark') {
  const theme = createTheme({ colors: { mode: themeMode } });
  if (!root) {
    root = createRoot(document.getElementById('root')!);
  }
  setPanelState = undefined;
  // Grafana renders plugin pages inside its router; @grafana/ui's links need the (v6 API) router
  // context of react-router-dom-v5-compat, the copy @grafana/ui itself imports.
  root.render(
    <MemoryRouter>
      <>
        <ThemeContext.Provider value={theme}>
          <GlobalStyles />
          <div data-testid="harness-canvas" data-theme={themeMode} style={{ padding: 24, background: theme.colors.background.primary, width: 1100 }}>
            {element}
          </div>
        </ThemeContext.Provider>
      </>
    </MemoryRouter>
  );
}

// After an action the panel announces the change on the app event bus (a public API) and re-runs
// its own query; a Grafana dashboard does nothing else with it, so the harness only counts it.
getAppEvents().subscribe({ type: 'authwatch-data-changed' } as BusEventType<never>, () => changedEvents++);

/** The built app plugin (module.js at the dist root). */
async function loadApp(): Promise<AppPlugin> {
  const module = (config.bootData.settings as unknown as { harnessApp: { module: string } }).harnessApp.module;
  const mod = (await importModule('/' + module)) as { plugin?: AppPlugin };
  if (!mod.plugin?.configPages) {
    throw new Error(`${module} does not export an app plugin`);
  }
  return mod.plugin;
}

/** The app's settings as Grafana's plugin page loads them (GET /api/plugins/<id>/settings). */
async function appMeta(id: string): Promise<AppPluginMeta> {
  return (await getBackendSrv().get(`/api/plugins/${id}/settings`)) as AppPluginMeta;
}

export interface MountOptions {
  panelId: string;
  dsName: string;
  targets: DataQuery[];
  options?: Record<string, unknown>;
  title?: string;
  theme?: 'light' | 'dark';
  width?: number;
  height?: number;
  hours?: number;
}

const harness = {
  sharedNames,
  user: () => config.bootData.user,
  async loadPlugin(module: string): Promise<string[]> {
    const mod = (await importModule('/' + module)) as Record<string, unknown>;
    return Object.keys(mod);
  },
  async query(dsName: string, targets: DataQuery[], hours = 24) {
    const data = await runQueries(dsName, targets, lastHours(hours));
    return { state: data.state, errors: data.errors, series: data.series.map(serialize) };
  },
  /** Queries through the built data source and renders the built panel; returns timings in ms. */
  async mountPanel(o: MountOptions) {
    const meta = config.panels[o.panelId];
    if (!meta) {
      throw new Error(`panel plugin ${o.panelId} is not in the built plugins`);
    }
    const mod = (await importModule('/' + meta.module)) as { plugin?: PanelPlugin };
    if (!mod.plugin?.panel) {
      throw new Error(`${meta.module} does not export a panel plugin`);
    }
    const range = lastHours(o.hours ?? 24);
    const t0 = performance.now();
    const data = await runQueries(o.dsName, o.targets, range);
    const queryMs = performance.now() - t0;
    current = {
      plugin: mod.plugin,
      title: o.title ?? meta.name,
      options: { ...mod.plugin.defaults, ...o.options },
      data,
      theme: o.theme ?? 'dark',
      width: o.width ?? 1300,
      height: o.height ?? 520,
      version: (current?.version ?? 0) + 1,
      mountId: (current?.mountId ?? 0) + 1,
      dsName: o.dsName,
      targets: o.targets,
      range,
    };
    const renderMs = await showPanel(current);
    const rows = data.series.reduce((n, f) => n + f.length, 0);
    return { queryMs, renderMs, rows, state: data.state, errors: data.errors };
  },
  changedEvents: () => changedEvents,
  /** React as the page runs it (proves which package set the bundle was built from). */
  reactVersion: () => React.version,
  /** Renders the built app's root page (Overview) or its configuration page, as Grafana does. */
  async mountAppPage(page: 'root' | 'config', theme: 'light' | 'dark' = 'dark') {
    const plugin = await loadApp();
    const meta = await appMeta('authwatch-monitor-app');
    plugin.meta = meta;
    if (page === 'root') {
      const Root = plugin.root!;
      showElement(
        <PluginContextProvider meta={meta}>
          <Root meta={meta} path="/a/authwatch-monitor-app" query={{}} basename="/a/authwatch-monitor-app" onNavChanged={() => {}} />
        </PluginContextProvider>,
        theme
      );
    } else {
      const Config = plugin.configPages![0].body;
      showElement(
        <PluginContextProvider meta={meta}>
          <Config plugin={plugin} query={{}} />
        </PluginContextProvider>,
        theme
      );
    }
    return { enabled: Boolean(meta.enabled), pages: plugin.configPages!.map((p) => p.title) };
  },
  /** Renders the built data source's configuration editor with an instance's saved settings. */
  async mountDataSourceConfig(dsName: string, theme: 'light' | 'dark' = 'dark') {
    const settings = getDataSourceSrv().getInstanceSettings(dsName)!;
    const ds = await getDataSourceSrv().get(dsName);
    const Editor = ds.components!.ConfigEditor!;
    const options = {
      id: settings.id,
      uid: settings.uid,
      orgId: 1,
      name: settings.name,
      type: settings.type,
      typeName: settings.meta.name,
      typeLogoUrl: '',
      access: 'proxy',
      url: '',
      user: '',
      database: '',
      basicAuth: false,
      basicAuthUser: '',
      isDefault: false,
      jsonData: settings.jsonData,
      secureJsonFields: (settings as unknown as { secureJsonFields: Record<string, boolean> }).secureJsonFields,
      readOnly: false,
      withCredentials: false,
    } as unknown as DataSourceSettings;
    function Harnessed() {
      const [o, setO] = useState(options);
      return <Editor options={o} onOptionsChange={setO} />;
    }
    showElement(<Harnessed />, theme);
  },
  /** Calls one of the data source's action methods directly, as a page script could (bypassing the UI). */
  async callAction(dsName: string, method: 'terminateSession' | 'terminateUserSessions' | 'unlockUser' | 'unlockIp', arg: string) {
    const ds = (await getDataSourceSrv().get(dsName)) as unknown as Record<string, (a: string) => Promise<unknown>>;
    try {
      return { ok: true as const, result: await ds[method](arg) };
    } catch (err) {
      return { ok: false as const, message: err instanceof Error ? err.message : JSON.stringify(err) };
    }
  },
};

(window as unknown as { authwatchHarness: typeof harness }).authwatchHarness = harness;
export type Harness = typeof harness;
