// PLACEHOLDER — the detections work (brute force, spray, stuffing, impossible travel, new
// device/country) replaces this body; keep the exported name and signature.
import type { Processor } from '../pipeline';

export function createDetections(_env: NodeJS.ProcessEnv): Processor[] {
  return [];
}
