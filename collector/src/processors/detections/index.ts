// Detections run inside the store write transaction, after the sessions and lockout processors,
// and record what they find as "detection" events (reason = kind) via ctx.emit.
//  - brute_force, password_spray, credential_stuffing: sliding windows, in memory on SQLite
//    (one process sees everything) and in PostgreSQL's shared (UNLOGGED) state with several
//    replicas, so a detection fires once whichever replica saw the events (docs/scale-out.md).
//  - new_device, new_country, impossible_travel: durable per-user profile in tx state.
import type { Processor } from '../../pipeline/contracts';
import { createBruteForceDetection } from './brute-force';
import type { DetectionConfig } from './config';
import { type AddressRule, addressWindowDetections } from './address-windows';
import { credentialStuffingRule } from './credential-stuffing';
import { passwordSprayRule } from './password-spray';
import { createUserProfileDetections } from './user-profile';

export function createDetections(config: DetectionConfig): Processor[] {
  const out: Processor[] = [];
  if (config.kinds.has('brute_force')) out.push(createBruteForceDetection(config));
  // Both watch addresses: one processor, one window state per address (address-windows.ts).
  const address: AddressRule[] = [];
  if (config.kinds.has('password_spray')) address.push(passwordSprayRule(config));
  if (config.kinds.has('credential_stuffing')) address.push(credentialStuffingRule(config));
  if (address.length) out.push(addressWindowDetections(address, config));
  if ((['new_device', 'new_country', 'impossible_travel'] as const).some((k) => config.kinds.has(k))) {
    out.push(createUserProfileDetections(config));
  }
  return out;
}
