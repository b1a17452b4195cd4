// @authwatch/wire: the collector API's contract, once. TypeBox schemas are JSON Schema objects; the
// TypeScript types are derived from them (Static), so a field is added in one place. Pure data
// (no Node APIs): the Grafana plugin and the client import it as well as the collector.
import { IngestEventSchema, StoredEventSchema, EventsPageSchema, AcceptedSchema } from './event';
import { SessionSchema, SessionsListSchema, SessionStateAnswerSchema, LockoutSchema, LockoutsListSchema } from './sessions';
import { PolicySchema } from './policy';
import { CheckRequestSchema, CheckAnswerSchema } from './check';
import { ErrorBodySchema } from './errors';
import { TimeseriesSchema, StatsSchema, ValuesSchema, WhoamiSchema } from './queries';

export * from './event';
export * from './sessions';
export * from './policy';
export * from './check';
export * from './errors';
export * from './queries';

/** Every named schema; the build writes each to dist/schemas/<name>.json. */
export const WIRE_SCHEMAS = {
  Event: IngestEventSchema,
  StoredEvent: StoredEventSchema,
  EventsPage: EventsPageSchema,
  Accepted: AcceptedSchema,
  Session: SessionSchema,
  SessionsList: SessionsListSchema,
  SessionStateAnswer: SessionStateAnswerSchema,
  Lockout: LockoutSchema,
  LockoutsList: LockoutsListSchema,
  Policy: PolicySchema,
  CheckRequest: CheckRequestSchema,
  CheckAnswer: CheckAnswerSchema,
  Error: ErrorBodySchema,
  Timeseries: TimeseriesSchema,
  Stats: StatsSchema,
  Values: ValuesSchema,
  Whoami: WhoamiSchema,
} as const;
