// AUTHWATCH_HIDE_DETAILS: read-role keys do not see network/location details (schema/redact.ts); admins do.
import type { Request } from 'express';
import { principal } from '../http/auth';

export function hidesDetails(req: Request, hideDetails: boolean): boolean {
  return hideDetails && principal(req).role !== 'admin';
}
