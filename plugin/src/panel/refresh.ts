import { BusEventBase, rangeUtil, toDataFrame, LoadingState, type PanelData } from '@grafana/data';
import { getAppEvents, getDataSourceSrv } from '@grafana/runtime';
import { from, lastValueFrom } from 'rxjs';

/**
 * Published on Grafana's app event bus (a public API) after an action changed the collector's
 * state, so every Authwatch panel on the page re-runs its own query. Grafana offers plugins no
 * public way to refresh a whole (scenes) dashboard; the other panels follow on its next refresh.
 */
export class AuthwatchChangedEvent extends BusEventBase {
  static type = 'authwatch-data-changed';
}

export function announceChange(): void {
  getAppEvents().publish(new AuthwatchChangedEvent());
}

/**
 * Runs the panel's last request again through its data source (getDataSourceSrv().get().query(),
 * as Grafana does), with a relative time range re-evaluated to now. Undefined when the panel has
 * no request to repeat.
 */
export async function requery(data: PanelData): Promise<PanelData | undefined> {
  const request = data.request;
  if (!request?.targets?.length) {
    return undefined;
  }
  const ds = await getDataSourceSrv().get(request.targets[0].datasource ?? null);
  const raw = request.range.raw;
  const range = typeof raw.from === 'string' || typeof raw.to === 'string' ? rangeUtil.convertRawToRange(raw, request.timezone) : request.range;
  const repeated = { ...request, range, requestId: `${request.requestId}-authwatch`, startTime: Date.now() };
  const response = await lastValueFrom(from(ds.query(repeated)));
  const errors = response.errors;
  return {
    ...data,
    state: errors?.length ? LoadingState.Error : LoadingState.Done,
    series: (response.data ?? []).map((d) => toDataFrame(d)),
    errors,
    timeRange: range,
    request: repeated,
  };
}
