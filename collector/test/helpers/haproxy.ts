// A real HAProxy (the Debian package) on loopback in front of collector replicas, round robin, as
// the scale-out topology runs (docs/scale-out.md). The configuration and the process handling are
// in haproxy-lb.js, shared with the P8 bench.
import { spawnSync } from 'node:child_process';

export { freePort, startHaproxy, type Haproxy } from './haproxy-lb';

export function haproxyAvailable(): boolean {
  return spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).status === 0;
}
