// Picks the store implementation from AUTHWATCH_STORE. SQLite runs in worker threads (writer and
// readers off the event loop) unless AUTHWATCH_SQLITE_WORKER=0 keeps it on the main thread.
import { openPostgresStore } from './postgres';
import { openSqliteStore, sqliteSyncFromEnv } from './sqlite';
import { openSqliteWorkerStore } from './sqlite-worker';
import type { CoreStore } from './store';

export async function openStore(url: string, env: NodeJS.ProcessEnv = process.env): Promise<CoreStore> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStore(url);
  const synchronous = sqliteSyncFromEnv(env);
  const worker = (env.AUTHWATCH_SQLITE_WORKER ?? '').trim().toLowerCase();
  if (['0', 'false', 'no', 'off'].includes(worker)) return openSqliteStore(url, { synchronous });
  return openSqliteWorkerStore(url, { synchronous });
}
