import { config } from '@grafana/runtime';

/**
 * Whether the signed-in Grafana user may end sessions and unlock accounts. Mirrors the data source's
 * admin routes (reqRole Editor); the Grafana server enforces the same rule on every request.
 */
export function userCanAct(): boolean {
  const role = config.bootData?.user?.orgRole;
  return role === 'Editor' || role === 'Admin';
}
