// Runs the real collector (collector/dist/main.js) on a free port with a fresh SQLite file; the
// process itself is started as for the data source tests (src/datasource/testing/collector.ts).
import { startCollectorProcess, type CollectorKeys } from '../src/datasource/testing/collector';

export interface RunningCollector {
  url: string;
  keys: CollectorKeys;
  stop(): Promise<void>;
  /** Calls the collector directly (test side, never from the browser). */
  request(
    method: string,
    path: string,
    key: keyof CollectorKeys,
    body?: unknown
  ): Promise<{ status: number; body: unknown }>;
}

export async function startCollector(keys: CollectorKeys): Promise<RunningCollector> {
  const { url, stop } = await startCollectorProcess(keys, 'authwatch-harness-store-');
  return {
    url,
    keys,
    stop,
    async request(method, path, key, body) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${keys[key]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // CSV and other text bodies stay strings.
      }
      return { status: res.status, body: parsed };
    },
  };
}
