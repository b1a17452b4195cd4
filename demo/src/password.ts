// Password hashing for the demo's in-memory user store: scrypt with a per-user salt, compared in
// constant time. Plain passwords exist only in the request being handled; they are never logged.

import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const KEY_LENGTH = 32;

export interface PasswordHash {
  salt: Buffer;
  hash: Buffer;
}

export function hashPassword(password: string): PasswordHash {
  const salt = randomBytes(16);
  return { salt, hash: scryptSync(password, salt, KEY_LENGTH) };
}

export function verifyPassword(password: string, stored: PasswordHash): boolean {
  const candidate = scryptSync(password, stored.salt, KEY_LENGTH);
  return timingSafeEqual(candidate, stored.hash);
}
