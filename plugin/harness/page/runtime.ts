// Grafana runtime services for the harness page: a fetch-based backendSrv (same request/response/
// error shapes as Grafana's), a template service without variables, and a data source service that
// instantiates the BUILT data source plugin like Grafana's DatasourceSrv does.
import type { DataSourceApi, DataSourceInstanceSettings, DataSourcePlugin, DataSourceRef, ScopedVars } from '@grafana/data';
import {
  BackendSrv,
  BackendSrvRequest,
  config,
  DataSourceSrv,
  FetchError,
  FetchResponse,
  setBackendSrv,
  setDataSourceSrv,
  setTemplateSrv,
  TemplateSrv,
} from '@grafana/runtime';
import { from, Observable } from 'rxjs';

import { importModule } from './amd';

function queryString(params: Record<string, unknown> | undefined): string {
  if (!params) {
    return '';
  }
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) {
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      search.append(key, String(v));
    }
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

async function parseBody(response: Response, responseType: BackendSrvRequest['responseType']): Promise<unknown> {
  switch (responseType) {
    case 'text':
      return response.text();
    case 'blob':
      return response.blob();
    case 'arraybuffer':
      return response.arrayBuffer();
    default: {
      const text = await response.text();
      try {
        return text ? JSON.parse(text) : text;
      } catch {
        return text;
      }
    }
  }
}

async function doFetch<T>(options: BackendSrvRequest): Promise<FetchResponse<T>> {
  const method = (options.method ?? 'GET').toUpperCase();
  const headers = new Headers(options.headers ?? {});
  let body: BodyInit | undefined;
  if (options.data !== undefined && method !== 'GET') {
    if (typeof options.data === 'string' || options.data instanceof FormData || options.data instanceof URLSearchParams || options.data instanceof Blob) {
      body = options.data;
    } else {
      body = JSON.stringify(options.data);
      if (!headers.has('content-type')) {
        headers.set('content-type', 'application/json');
      }
    }
  }
  headers.set('X-Grafana-Org-Id', '1');
  const url = options.url + queryString(options.params);
  const response = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: options.abortSignal });
  const data = (await parseBody(response, options.responseType)) as T;
  const result: FetchResponse<T> = {
    data,
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    headers: response.headers,
    redirected: response.redirected,
    type: response.type,
    url: response.url,
    config: options,
  };
  if (!response.ok) {
    const message = (data as { message?: string } | undefined)?.message;
    const error: FetchError<T> = { status: response.status, statusText: response.statusText, data, message, config: options };
    throw error;
  }
  return result;
}

export class FetchBackendSrv implements BackendSrv {
  fetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
    return from(doFetch<T>(options));
  }
  chunked(options: BackendSrvRequest): Observable<FetchResponse<Uint8Array | undefined>> {
    return from(
      doFetch<ArrayBuffer>({ ...options, responseType: 'arraybuffer' }).then((r) => ({ ...r, data: new Uint8Array(r.data) }))
    );
  }
  async datasourceRequest<T = unknown>(options: BackendSrvRequest): Promise<FetchResponse<T>> {
    return doFetch<T>(options);
  }
  async request<T = unknown>(options: BackendSrvRequest): Promise<T> {
    return (await doFetch<T>(options)).data;
  }
  get<T = unknown>(url: string, params?: Record<string, unknown>, requestId?: string, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, params, requestId, method: 'GET' });
  }
  delete<T = unknown>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'DELETE' });
  }
  post<T = unknown>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'POST' });
  }
  patch<T = unknown>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'PATCH' });
  }
  put<T = unknown>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'PUT' });
  }
}

/** A dashboard without template variables: text passes through unchanged. */
const templateSrv: TemplateSrv = {
  getVariables: () => [],
  replace: (target?: string, _scopedVars?: ScopedVars) => target ?? '',
  containsTemplate: (target?: string) => !!target && /\$\w+|\[\[\w+/.test(target),
  updateTimeRange: () => {},
};

type Settings = DataSourceInstanceSettings & { meta: DataSourceInstanceSettings['meta'] & { module: string } };

class HarnessDataSourceSrv implements DataSourceSrv {
  private readonly instances = new Map<string, Promise<DataSourceApi>>();

  private settingsList(): Settings[] {
    return Object.values(config.datasources) as Settings[];
  }

  getInstanceSettings(ref?: DataSourceRef | string | null): Settings | undefined {
    const list = this.settingsList();
    if (ref === undefined || ref === null) {
      return list.find((s) => s.isDefault) ?? list[0];
    }
    if (typeof ref === 'string') {
      return list.find((s) => s.uid === ref || s.name === ref);
    }
    return list.find((s) => s.uid === ref.uid);
  }

  getList(): Settings[] {
    return this.settingsList();
  }

  async reload(): Promise<void> {
    this.instances.clear();
  }

  registerRuntimeDataSource(): void {
    throw new Error('runtime data sources are not supported by the harness');
  }

  get(ref?: DataSourceRef | string | null): Promise<DataSourceApi> {
    const settings = this.getInstanceSettings(ref);
    if (!settings) {
      return Promise.reject(new Error(`Data source ${JSON.stringify(ref)} was not found`));
    }
    let instance = this.instances.get(settings.uid);
    if (!instance) {
      instance = importModule('/' + settings.meta.module).then((mod) => {
        const plugin = (mod as { plugin?: DataSourcePlugin<DataSourceApi> }).plugin;
        if (!plugin?.DataSourceClass) {
          throw new Error(`${settings.meta.module} does not export a data source plugin`);
        }
        // What Grafana's DatasourceSrv.loadDatasource does with a plugin module.
        const ds = new plugin.DataSourceClass(settings);
        ds.components = plugin.components;
        ds.meta = settings.meta;
        return ds;
      });
      this.instances.set(settings.uid, instance);
    }
    return instance;
  }
}

export function installRuntime(): void {
  setBackendSrv(new FetchBackendSrv());
  setTemplateSrv(templateSrv);
  setDataSourceSrv(new HarnessDataSourceSrv());
}
