// Reads lines from a file (once, or following it like `tail -F`) or from a stream (stdin) and hands
// them on in chunks, waiting for each chunk to be taken (back-pressure: a slow pipeline slows the
// reader, it never buffers the whole file). Follow mode survives rotation (the path now names a
// new inode: the old file is read to its end first, then the new one from its start) and
// truncation (size below our offset: start again at 0). Knows nothing about sshd.
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export type LineHandler = (lines: string[]) => Promise<void>;

export interface FollowFileOptions {
  path: string;
  /** Keep reading as the file grows / rotates, until the signal aborts. */
  follow: boolean;
  /** Start at the beginning (default when not following); otherwise at the current end. */
  fromStart: boolean;
  onLines: LineHandler;
  signal?: AbortSignal;
  /** How often to look for growth / rotation (ms). */
  pollMs?: number;
  /** Called on rotation / truncation (for logs and tests). */
  onReopen?: (why: 'rotated' | 'truncated') => void;
  /** Called once the starting position is taken (lines written after it will be read). */
  onReady?: () => void;
}

const CHUNK = 256 * 1024;

/** Longest line kept (sshd's lines are under 2 KB; a journald JSON record a few KB): longer ones are dropped, not buffered. */
export const MAX_LINE = 1024 * 1024;

/** Splits chunks into lines, keeping a partial last line for the next chunk. */
export class LineSplitter {
  private rest = '';
  private skipping = false;
  /** Lines dropped for being longer than MAX_LINE. */
  overlong = 0;
  private readonly decoder = new StringDecoder('utf8');
  /** Bytes in: a UTF-8 character cut between two reads is kept for the next one. */
  pushBytes(bytes: Buffer): string[] {
    return this.push(this.decoder.write(bytes));
  }
  push(text: string): string[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop() ?? '';
    // The rest of a line whose start was dropped.
    if (this.skipping && parts.length) {
      parts.shift();
      this.skipping = false;
    }
    if (this.skipping) this.rest = '';
    else if (this.rest.length > MAX_LINE) {
      this.rest = '';
      this.skipping = true;
      this.overlong++;
    }
    const out: string[] = [];
    for (const p of parts) {
      const l = stripCr(p);
      if (l.length > MAX_LINE) this.overlong++;
      else if (l.length > 0) out.push(l);
    }
    return out;
  }
  /** The unterminated last line, if any (end of a file that is not followed). */
  end(): string[] {
    const last = stripCr(this.rest);
    this.rest = '';
    this.skipping = false;
    return last ? [last] : [];
  }
}

function stripCr(l: string): string {
  return l.endsWith('\r') ? l.slice(0, -1) : l;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/** Reads fh from pos to its current end; returns the new position. */
async function drain(fh: FileHandle, pos: number, splitter: LineSplitter, onLines: LineHandler, buf: Buffer): Promise<number> {
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return pos;
    pos += bytesRead;
    const lines = splitter.pushBytes(buf.subarray(0, bytesRead));
    if (lines.length) await onLines(lines);
  }
}

export async function followFile(opts: FollowFileOptions): Promise<void> {
  const pollMs = opts.pollMs ?? 250;
  const buf = Buffer.allocUnsafe(CHUNK);
  let fh = await open(opts.path, 'r');
  let ino = (await fh.stat()).ino;
  let pos = opts.fromStart || !opts.follow ? 0 : (await fh.stat()).size;
  opts.onReady?.();
  let splitter = new LineSplitter();
  try {
    for (;;) {
      pos = await drain(fh, pos, splitter, opts.onLines, buf);
      if (!opts.follow || opts.signal?.aborted) break;
      await sleep(pollMs, opts.signal);
      if (opts.signal?.aborted) break;
      const now = await stat(opts.path).catch(() => null);
      if (!now) continue; // between rename and create: keep the old file until the new one appears
      if (now.ino !== ino) {
        pos = await drain(fh, pos, splitter, opts.onLines, buf); // what was written before the rename
        const tail = splitter.end();
        if (tail.length) await opts.onLines(tail);
        await fh.close();
        fh = await open(opts.path, 'r');
        ino = (await fh.stat()).ino;
        pos = 0;
        splitter = new LineSplitter();
        opts.onReopen?.('rotated');
      } else if (now.size < pos) {
        pos = 0;
        splitter = new LineSplitter();
        opts.onReopen?.('truncated');
      }
    }
    const tail = splitter.end();
    if (tail.length) await opts.onLines(tail);
  } finally {
    await fh.close();
  }
}

/** Reads a stream (stdin) to its end, line by line in chunks. */
export async function readLines(stream: Readable, onLines: LineHandler): Promise<void> {
  const splitter = new LineSplitter();
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    const lines = splitter.push(chunk as string);
    if (lines.length) await onLines(lines);
  }
  const tail = splitter.end();
  if (tail.length) await onLines(tail);
}
