// Picks the store implementation from AUTHWATCH_STORE. SQLite runs in worker threads (writer and
// readers off the event loop) unless AUTHWATCH_SQLITE_WORKER=0 keeps it on the main thread.
import type { IngestProcessorConfig } from '../pipeline/group-commit';
import { openPostgresStore } from './postgres';
import { openSqliteStore, sqliteSyncFromEnv, type SqliteSync } from './sqlite';
import { openSqliteWorkerStore } from './sqlite-worker';
import type { CoreStore } from './store';

export interface StoreConfig {
  /** sqlite:./path.db or postgres://… */
  url: string;
  /** AUTHWATCH_SQLITE_SYNC: full (default, survives power loss) or normal. */
  sqliteSync: SqliteSync;
  /** AUTHWATCH_SQLITE_WORKER: false keeps SQLite on the main thread. */
  sqliteWorker: boolean;
}

/** Reads and checks the store's variables (the URL comes from the flag or AUTHWATCH_STORE). */
export function parseStoreConfig(url: string, env: NodeJS.ProcessEnv): StoreConfig {
  const worker = (env.AUTHWATCH_SQLITE_WORKER ?? '').trim().toLowerCase();
  return { url, sqliteSync: sqliteSyncFromEnv(env), sqliteWorker: !['0', 'false', 'no', 'off'].includes(worker) };
}

/**
 * `ingest`: the processors' configuration. With it, SQLite in worker threads runs whole group
 * commits in its writer thread (ingestGroup); tools that only read or write directly omit it.
 */
export async function openStore(config: StoreConfig, ingest?: IngestProcessorConfig): Promise<CoreStore> {
  if (/^postgres(ql)?:\/\//.test(config.url)) return openPostgresStore(config.url);
  const options = { synchronous: config.sqliteSync };
  return config.sqliteWorker ? openSqliteWorkerStore(config.url, { ...options, ingest }) : openSqliteStore(config.url, options);
}
