// What every route module (api/ and the HTTP sources) gets from the composition root.
import type { RequestHandler } from 'express';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Pipeline } from '../pipeline/runner';
import type { Telemetry } from '../telemetry';
import type { CoreStore } from '../store/store';
import type { Access } from './auth';
import type { LockSource } from '../decision/lock-cache';

export interface ApiContext {
  config: Config;
  store: CoreStore;
  pipeline: Pipeline;
  telemetry: Telemetry;
  log: Logger;
  /** Keyed hash (hex) of a raw session id. */
  hashSessionId(raw: string): string;
  auth(access: Access): RequestHandler;
  /** Locks in force for plain /v1/check (memory on SQLite). */
  locks: LockSource;
}
