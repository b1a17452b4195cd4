// Picks the store implementation from AUTHWATCH_STORE.
import { openSqliteStore } from './sqlite';
import type { CoreStore } from './store';

export async function openStore(url: string): Promise<CoreStore> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('AUTHWATCH_STORE: the PostgreSQL store is not available in this build yet; use sqlite:./data/authwatch.db');
  }
  return openSqliteStore(url);
}
