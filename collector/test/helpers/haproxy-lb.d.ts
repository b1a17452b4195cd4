import type { ChildProcess } from 'node:child_process';

export interface Haproxy {
  url: string;
  child: ChildProcess;
  pid: number | undefined;
  /** What HAProxy printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number>;
/** log: one line per request (with its timers) on HAProxy's output. */
export function haproxyConfig(port: number, backends: string[], options?: { log?: boolean }): string;
/** backends: "127.0.0.1:port" each; names r1, r2, … in order. */
export function startHaproxy(backends: string[], options?: { log?: boolean }): Promise<Haproxy>;
