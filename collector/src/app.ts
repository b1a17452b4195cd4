// Composition root: store, pipeline (enrichers → sessions → lockout → detections; sinks), express
// app with every route, the sweeper and retention; start() listens, close() drains and shuts down.
import express, { type Express } from 'express';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticator, requestGuard } from './http/auth';
import { blocklistRoutes } from './api/blocklist';
import { checkRoutes, fastCheckRoute } from './api/check';
import type { ApiContext } from './http/context';
import { errorHandler, notFound } from './http/errors';
import { fastPath } from './http/fast-path';
import { eventCsvRoutes } from './api/events-csv';
import { eventRoutes } from './api/events';
import { lockoutRoutes } from './api/lockouts';
import { metaRoutes } from './api/meta';
import { policyRoutes } from './api/policy';
import { sessionRoutes } from './api/sessions';
import { statsRoutes } from './api/stats';
import { timeseriesRoutes } from './api/timeseries';
import { valueRoutes } from './api/values';
import type { Config } from './config';
import { createLogger, type Logger } from './log';
import { Pipeline } from './pipeline/runner';
import { createEnrichers } from './enrichers';
import { LockCache, memoryLocks, storeLocks } from './decision/lock-cache';
import { createNotificationSinks } from './sinks/notifications';
import { createTelemetry, type Telemetry } from './telemetry';
import { fastEventsRoute, httpSource } from './sources/http';
import { otlpSource } from './sources/otlp';
import { createIngestProcessors, type IngestProcessorConfig } from './pipeline/group-commit';
import { openStore } from './store/open';
import { startRetention } from './store/retention';
import type { CoreStore } from './store/store';
import { startSweeper, type Sweeper } from './sweeper';

export interface Collector {
  app: Express;
  store: CoreStore;
  pipeline: Pipeline;
  telemetry: Telemetry;
  sweeper: Sweeper;
  hashSessionId(raw: string): string;
  /** Listens on config.host:config.port (0 = any free port); resolves with the URL. */
  listen(): Promise<{ url: string; host: string; port: number; server: Server }>;
  /** Stops accepting, drains in-flight requests, stops the sweeper, flushes sinks, closes the store. */
  close(): Promise<void>;
}

export interface CollectorOptions {
  /** The enforcement clock (tests move it); default Date.now. */
  clock?: () => number;
}

export async function createCollector(config: Config, log: Logger = createLogger(), options: CollectorOptions = {}): Promise<Collector> {
  // One processor configuration: the pipeline's processors and, on SQLite in worker threads, the writer thread's.
  const ingestConfig: IngestProcessorConfig = { truncate: config.ipTruncate, detections: config.detections };
  const store = await openStore(config.storage, ingestConfig);
  const sessionKey = config.sessionKey ?? (await store.getOrCreateMeta('session_hash_key', () => randomBytes(32).toString('hex')));
  const hashSessionId = (raw: string) => createHmac('sha256', sessionKey).update(raw, 'utf8').digest('hex');

  const telemetry = createTelemetry({
    config: config.telemetry,
    gauges: { sessionsActive: () => store.countActiveSessions(), accountsLocked: () => store.countLockedAccounts(Date.now()) },
  });
  const clock = options.clock ?? Date.now;
  // Plain /v1/check answers from memory where this process is the only writer.
  const locks = store.description.startsWith('sqlite:') ? memoryLocks(await LockCache.load(store, clock())) : storeLocks(store);
  const pipeline = new Pipeline({
    store,
    enrichers: createEnrichers(config.enrich),
    // A store that runs whole group commits (SQLite in worker threads) has the processors itself.
    ...(store.ingestGroup ? { processors: [], isolatedProcessors: [] } : createIngestProcessors(ingestConfig)),
    sinks: [telemetry.sink, ...createNotificationSinks(config.notifications, log)],
    validation: { hashSessionId, maxFutureMs: config.maxFutureMs, rejected: (n) => telemetry.rejected(n) },
    onCommit: (events) => locks.committed(events),
    truncate: config.ipTruncate,
    log,
    clock,
  });

  const ctx: ApiContext = { config, store, pipeline, telemetry, log, hashSessionId, auth: authenticator(config.keys), locks };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(telemetry.httpMiddleware);
  app.use(requestGuard(config.keys));
  app.get('/metrics', telemetry.metricsHandler);
  // /v1/check first: the path every login waits on walks no other router.
  for (const routes of [checkRoutes, metaRoutes, httpSource, otlpSource, eventRoutes, eventCsvRoutes, timeseriesRoutes, statsRoutes, valueRoutes, sessionRoutes, lockoutRoutes, blocklistRoutes, policyRoutes]) {
    app.use(routes(ctx));
  }
  app.use(notFound);
  app.use(errorHandler(log));
  // The plain check and ingest requests skip express (http/fast-path.ts); the rest, and every
  // refusal, are express's.
  const handler = fastPath({ keys: config.keys, routes: [fastCheckRoute(ctx), fastEventsRoute(ctx)], fallback: app, record: telemetry.httpRecord, log });

  const sweeper = startSweeper(pipeline, config.sweepSeconds, log);
  const stopRetention = startRetention(store, config.retention, { log });
  let server: Server | null = null;
  let closing: Promise<void> | null = null;

  return {
    app,
    store,
    pipeline,
    telemetry,
    sweeper,
    hashSessionId,
    listen() {
      return new Promise((resolve, reject) => {
        const s = createServer(handler);
        s.keepAliveTimeout = 5000;
        s.once('error', reject);
        s.listen(config.port, config.host, () => {
          server = s;
          const { port } = s.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({ url: `http://${host}:${port}`, host: config.host, port, server: s });
        });
      });
    },
    close() {
      closing ??= (async () => {
        if (server) {
          const s = server;
          // Stop accepting; idle keep-alive sockets close now, busy ones after their response.
          const closed = new Promise<void>((r) => s.close(() => r()));
          s.closeIdleConnections();
          const force = setTimeout(() => s.closeAllConnections(), 10_000);
          await closed;
          clearTimeout(force);
        }
        await sweeper.stop();
        stopRetention();
        await pipeline.close();
        await telemetry.shutdown();
        await store.close();
      })();
      return closing;
    },
  };
}
