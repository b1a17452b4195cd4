import { getAppEvents, RefreshEvent } from '@grafana/runtime';

interface SceneTimeRangeLike {
  onRefresh?: () => void;
}

interface SceneContextLike {
  state?: { $timeRange?: SceneTimeRangeLike };
}

/**
 * Re-runs the dashboard's queries after an action changed the collector's state. Scenes-based
 * dashboards (Grafana 11+) refresh through their time range object; elsewhere the app-wide
 * RefreshEvent does it.
 */
export function refreshDashboard(): void {
  const scene = (window as unknown as { __grafanaSceneContext?: SceneContextLike }).__grafanaSceneContext;
  const timeRange = scene?.state?.$timeRange;
  if (timeRange && typeof timeRange.onRefresh === 'function') {
    timeRange.onRefresh();
    return;
  }
  getAppEvents().publish(new RefreshEvent());
}
