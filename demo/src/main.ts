// Runs the demo login app and (unless --no-traffic) the traffic generator against it.
// Environment: AUTHWATCH_URL (collector, default http://127.0.0.1:4600), AUTHWATCH_INGEST_KEY
// (only when the collector has keys), DEMO_HOST/DEMO_PORT (default 127.0.0.1:0 = any free port),
// DEMO_IDLE_TIMEOUT_S (default 90), DEMO_COLLECTOR_TIMEOUT_MS (how long the app waits for the
// collector's decisions; default 2000).

import type { AddressInfo } from 'node:net';
import { AuthwatchClient } from '@authwatch/client';
import { createDemoApp } from './app';
import { startTraffic } from './traffic';
import { DEMO_USERS } from './users';

async function main(): Promise<void> {
  const collectorUrl = process.env.AUTHWATCH_URL ?? 'http://127.0.0.1:4600';
  const host = process.env.DEMO_HOST ?? '127.0.0.1';
  const port = Number(process.env.DEMO_PORT ?? 0);
  const idleTimeoutMs = Number(process.env.DEMO_IDLE_TIMEOUT_S ?? 90) * 1000;
  const withTraffic = !process.argv.includes('--no-traffic');
  const log = (line: string): void => console.log(`[demo] ${line}`);

  let lastError = '';
  const client = new AuthwatchClient({
    url: collectorUrl,
    ingestKey: process.env.AUTHWATCH_INGEST_KEY || undefined,
    service: 'demo-portal',
    // The client's 300 ms default suits a production collector next door; the demo shares a
    // laptop (or a loaded CI machine) with the collector, its traffic and the tests.
    timeoutMs: Number(process.env.DEMO_COLLECTOR_TIMEOUT_MS ?? 2000),
    onError: (err) => {
      // One line per distinct problem, not one per retry.
      if (err.message !== lastError) log(`collector: ${err.message}`);
      lastError = err.message;
    },
  });
  const demo = createDemoApp({ client, users: DEMO_USERS, idleTimeoutMs, log });
  demo.start();
  const server = demo.app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address}:${addr.port}`;
  console.log(`authwatch demo app listening on ${url} (reporting to ${collectorUrl})`);

  // The generator talks to the app over loopback even when it listens on every interface
  // (in a container): the app trusts X-Forwarded-For from loopback only.
  const local = addr.address === '0.0.0.0' || addr.address === '::' ? `http://127.0.0.1:${addr.port}` : url;
  const traffic = withTraffic ? startTraffic({ baseUrl: local, users: DEMO_USERS, log }) : undefined;
  if (traffic) log('traffic generator running (logins, typos, brute force, password spray, impossible travel, new device)');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    await traffic?.stop();
    demo.stop();
    server.close();
    server.closeAllConnections();
    const drained = await client.close(3_000);
    const s = client.stats();
    log(`delivered ${s.delivered} events, ${s.dropped} dropped, ${s.queued} undelivered${drained ? '' : ' (collector unreachable)'}`);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(`authwatch demo: ${(err as Error).message}`);
  process.exit(1);
});
