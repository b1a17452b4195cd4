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
export function haproxyConfig(port: number, backends: string[]): string;
/** backends: "127.0.0.1:port" each; names r1, r2, … in order. */
export function startHaproxy(backends: string[]): Promise<Haproxy>;
