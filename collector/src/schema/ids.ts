// Collector-made event ids: UUIDv7 layout (48-bit ms timestamp, then random), so new ids land at
// the end of the unique index instead of at random pages — cheaper inserts than random UUIDv4.
import { randomBytes } from 'node:crypto';

let pool = Buffer.alloc(0);
let offset = 0;

export function newEventId(now: number = Date.now()): string {
  if (offset + 10 > pool.length) {
    pool = randomBytes(10 * 1024);
    offset = 0;
  }
  const r = pool.subarray(offset, offset + 10).toString('hex');
  offset += 10;
  const t = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  const variant = ((parseInt(r[3], 16) & 0x3) | 0x8).toString(16);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}
