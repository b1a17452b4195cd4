// Reading an auth log once: a file, a gzip-compressed file (rotated logs: auth.log.2.gz) or stdin,
// whichever it is (gzip is recognised by its magic bytes, not the name). Anything else that is not
// text fails with a message saying what it is: another compressor's output, or binary data (a
// journal file, a database…). readAuthLogSource() turns such an input into parsed events, for any
// caller that wants events without the collector's pipeline (an import command, a test).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LineSplitter } from './authlog-follow';
import { createAuthLogParser, type AuthLogEvent, type AuthLogParseOptions, type AuthLogParserStats } from './authlog-parse';

export class AuthLogInputError extends Error {}

const SNIFF_BYTES = 64 * 1024;

const COMPRESSED: { magic: number[]; name: string; tool: string }[] = [
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd', tool: 'zstdcat' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2', tool: 'bzcat' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz', tool: 'xzcat' },
];

const starts = (b: Buffer, magic: number[]) => b.length >= magic.length && magic.every((x, i) => b[i] === x);

/** Why `head` (the first bytes of a text log) is not text, or null. */
function binaryProblem(head: Buffer): string | null {
  const nul = head.indexOf(0);
  if (nul >= 0) return `binary data (a NUL byte at offset ${nul})`;
  // Many invalid UTF-8 sequences or control characters: not a log (a latin-1 log has only a few).
  const s = head.toString('utf8');
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 27)) bad++;
  }
  return bad > 16 && bad > s.length / 100 ? `binary data (${bad} of its first ${s.length} characters are not text)` : null;
}

/**
 * What the first bytes of an input are: 'gzip' or 'text'. Throws AuthLogInputError naming the
 * problem otherwise. `what` names the input in the message ("/var/log/auth.log", "stdin").
 */
export function sniff(head: Buffer, what: string): 'gzip' | 'text' {
  if (starts(head, [0x1f, 0x8b])) return 'gzip';
  for (const c of COMPRESSED) {
    if (starts(head, c.magic)) throw new AuthLogInputError(`${what} is ${c.name}-compressed: decompress it first (${c.tool} FILE | … --authlog -)`);
  }
  const problem = binaryProblem(head);
  if (problem) throw new AuthLogInputError(`${what} is not a text log: ${problem}. Give an auth.log (or a .gz of one) or journalctl -o json output`);
  return 'text';
}

/** sniff() on the first 64 KiB of a file. */
export async function sniffFile(path: string): Promise<'gzip' | 'text'> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return sniff(buf.subarray(0, bytesRead), path);
  } finally {
    await fh.close();
  }
}

/** The bytes of an input, gunzipped when they are gzip; checked to be text either way. */
async function* textBytes(src: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  let first = await it.next();
  if (first.done) return;
  // Enough bytes to recognise a magic number even from a pipe that delivers a few at a time.
  while (first.value.length < 8) {
    const more = await it.next();
    if (more.done) break;
    first = { done: false, value: Buffer.concat([first.value, more.value]) };
  }
  const head: Buffer = first.value;
  const all = (async function* () {
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value as Buffer;
  })();
  if (sniff(head, what) === 'text') {
    yield* all;
    return;
  }
  const gunzip = createGunzip();
  const input = Readable.from(all);
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  let checked = false;
  try {
    for await (const chunk of gunzip) {
      if (!checked) {
        checked = true;
        sniff(chunk as Buffer, `${what} (decompressed)`);
      }
      yield chunk as Buffer;
    }
  } catch (e) {
    if (e instanceof AuthLogInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'Z_STREAM_ERROR') throw new AuthLogInputError(`${what}: the gzip data is corrupt or truncated (${(e as Error).message})`);
    throw e;
  } finally {
    input.destroy();
  }
}

/** Lines of a file or stdin ("-"), plain or gzip, in chunks; the last line may lack its newline. */
export async function* readLineChunks(path: string, stdin: Readable = process.stdin): AsyncGenerator<string[]> {
  const src = path === '-' ? stdin : createReadStream(path, { highWaterMark: 256 * 1024 });
  const splitter = new LineSplitter();
  try {
    for await (const bytes of textBytes(src as AsyncIterable<Buffer>, path === '-' ? 'stdin' : path)) {
      const lines = splitter.pushBytes(bytes);
      if (lines.length) yield lines;
    }
  } finally {
    if (path !== '-') (src as ReturnType<typeof createReadStream>).destroy();
  }
  const tail = splitter.end();
  if (tail.length) yield tail;
}

export interface AuthLogReadStats extends AuthLogParserStats {
  lines: number;
  events: number;
}

export interface ReadAuthLogOptions extends Omit<AuthLogParseOptions, 'trace' | 'traceAbsorbed'> {
  /** Read stdin from here when path is "-" (default process.stdin). */
  stdin?: Readable;
}

export type AuthLogEventSource = AsyncGenerator<AuthLogEvent[], void, undefined> & { readonly stats: AuthLogReadStats };

/**
 * Parsed events of an auth log: a plain or .gz file, or stdin ("-"); syslog, RFC 3339, bare
 * journald lines or `journalctl -o json` (opts.journal: JSON only). Yields the events of each chunk
 * read (then those still open at the end); `stats` counts lines, events and what was skipped.
 * Throws AuthLogInputError when the input is not a text log. Nothing is validated or stored: pass
 * the events to POST /v1/events or validateBatch.
 */
export function readAuthLogSource(path: string, opts: ReadAuthLogOptions = {}): AuthLogEventSource {
  const parse = createAuthLogParser(opts);
  const stats: AuthLogReadStats = Object.assign(parse.stats, { lines: 0, events: 0 });
  async function* run(): AsyncGenerator<AuthLogEvent[], void, undefined> {
    for await (const lines of readLineChunks(path, opts.stdin)) {
      const out: AuthLogEvent[] = [];
      for (const line of lines) {
        const evs = parse(line);
        if (evs) for (const e of evs) out.push(e);
      }
      stats.lines += lines.length;
      stats.events += out.length;
      if (out.length) yield out;
    }
    const rest = parse.flush();
    stats.events += rest.length;
    if (rest.length) yield rest;
  }
  return Object.assign(run(), { stats });
}
