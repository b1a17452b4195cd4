// Starts the real collector (composition root, express, SQLite file) on 127.0.0.1:0 with API keys,
// and gives tests small fetch helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCollector, type Collector } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { Writable } from 'node:stream';

export const KEYS = { ingest: 'ingest-secret-1', read: 'read-secret-1', admin: 'admin-secret-1' } as const;
export type KeyRole = keyof typeof KEYS;

export interface TestServer {
  url: string;
  dir: string;
  dbFile: string;
  collector: Collector;
  /** Log lines the collector wrote. */
  logs: string[];
  req(method: string, path: string, opts?: { key?: KeyRole | null; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: any; text: string; headers: Headers }>;
  post(path: string, body: unknown, key?: KeyRole): Promise<{ status: number; body: any }>;
  get(path: string, key?: KeyRole): Promise<{ status: number; body: any }>;
  /** Stops the server; keep the files unless `remove`. */
  stop(remove?: boolean): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'authwatch-test-'));
}

export async function startServer(opts: { dir?: string; env?: Record<string, string>; clock?: () => number } = {}): Promise<TestServer> {
  const dir = opts.dir ?? tempDir();
  const dbFile = join(dir, 'authwatch.db');
  const env: NodeJS.ProcessEnv = {
    AUTHWATCH_HOST: '127.0.0.1',
    AUTHWATCH_PORT: '0',
    AUTHWATCH_STORE: `sqlite:${dbFile}`,
    AUTHWATCH_INGEST_KEYS: `app:${KEYS.ingest}`,
    AUTHWATCH_READ_KEYS: `grafana:${KEYS.read}`,
    AUTHWATCH_ADMIN_KEYS: `ops:${KEYS.admin}`,
    AUTHWATCH_SESSION_KEY: 'test-session-key-0123456789',
    ...opts.env,
  };
  const logs: string[] = [];
  const sink = { write: (s: string) => (logs.push(s), true) } as unknown as Writable;
  const collector = await createCollector(loadConfig(env, []), createLogger(sink), { clock: opts.clock });
  const { url } = await collector.listen();

  const req: TestServer['req'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? 'admin' : o.key;
    if (key) headers.authorization = `Bearer ${KEYS[key]}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    // State-changing calls are JSON even without a body, as the collector requires (CSRF).
    if (method !== 'GET' && method !== 'HEAD' && o.raw === undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  return {
    url,
    dir,
    dbFile,
    collector,
    logs,
    req,
    post: (path, body, key = 'ingest') => req('POST', path, { key, body }),
    get: (path, key = 'read') => req('GET', path, { key }),
    async stop(remove = false) {
      await collector.close();
      if (remove) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A login/access/... event with sensible defaults. */
export function ev(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'login', outcome: 'success', user: 'alice', ...fields };
}
