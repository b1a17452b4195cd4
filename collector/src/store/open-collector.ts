// The collector's store: as open.ts picks it, except that SQLite in worker threads is opened with
// the processors' configuration, so group commits run whole in its writer thread (ingestGroup).
import type { IngestProcessorConfig } from '../pipeline/group-commit';
import { openStore, type StoreConfig } from './open';
import { openSqliteWorkerStore } from './sqlite-worker';
import type { CoreStore } from './store';

export async function openCollectorStore(config: StoreConfig, ingest: IngestProcessorConfig): Promise<CoreStore> {
  if (!config.sqliteWorker || /^postgres(ql)?:\/\//.test(config.url)) return openStore(config);
  return openSqliteWorkerStore(config.url, { synchronous: config.sqliteSync, ingest });
}
