// Picks the store implementation from AUTHWATCH_STORE.
import { openPostgresStore } from './postgres';
import { openSqliteStore } from './sqlite';
import type { CoreStore } from './store';

export async function openStore(url: string): Promise<CoreStore> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStore(url);
  return openSqliteStore(url);
}
