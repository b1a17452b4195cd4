// Library entry: embed the collector or reuse its contracts.
export { createCollector, type Collector } from './app';
export { loadConfig, ConfigError, type Config } from './config';
export { validateBatch, IngestEventSchema, type IngestEvent } from './schema/event';
export { DEFAULT_POLICY, PolicySchema } from './schema/policy';
export { REASON_CODES } from './schema/reasons';
export * from './schema/stored-event';
export type * from './store/store';
export { SqliteStore, openSqliteStore } from './store/sqlite';
