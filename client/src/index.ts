export { AuthwatchClient } from './client';
export { guardLogin, enforceSessions, cookieValue } from './express';
export type { GuardLoginOptions, EnforceSessionsOptions, LoginOutcome } from './express';
export { CollectorHttpError } from './http';
export type {
  AuthwatchClientOptions,
  AuthwatchEvent,
  AttributeValue,
  CheckResult,
  DenyReason,
  GuardClient,
  EventType,
  Outcome,
  ReporterStats,
} from './types';
