// One import: open the file (or stdin), unpack gzip, recognise the format, turn it into events,
// post them in batches, report progress. auth.log and journald lines go through the collector's
// own sshd parser (collector/src/sources/authlog-parse.ts), so an import counts exactly what
// `authwatch serve --authlog` would.
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';
import { CliError, EXIT, type Connection } from '../api';
import { fromCsvRecord, fromJsonValue, type ImportEvent } from './convert';
import { Poster } from './post';
import { Progress, type ProgressMode } from './progress';

export const FORMATS = ['authlog', 'journald', 'json', 'ndjson', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface ImportTotals {
  lines: number;
  events: number;
  accepted: number;
  duplicates: number;
  /** Refused by the collector (400 for that event). */
  rejected: number;
  /** Not sent: collector-made types, or lines that are not events. */
  skipped: number;
}

export interface ImportOptions {
  conn: Connection;
  format: Format | 'auto';
  timezone: string | undefined;
  /** fail2ban's sshd filter mode for auth logs (normal, ddos, extra, aggressive). */
  mode?: 'normal' | 'ddos' | 'extra' | 'aggressive';
  batch: number;
  progress: ProgressMode;
  everyMs: number;
}

/**
 * The first chunk of a stream, put back for the reader after us (one chunk: reading on could reach
 * the end, after which nothing can be put back). Empty when the stream is empty.
 */
async function peek(stream: Readable): Promise<Buffer> {
  const chunk = await new Promise<Buffer | null>((resolve, reject) => {
    const cleanup = () => {
      stream.off('readable', readable);
      stream.off('end', ended);
      stream.off('error', failed);
    };
    const readable = () => {
      const c = stream.read() as Buffer | null;
      if (c === null) return; // 'end' follows
      cleanup();
      resolve(c);
    };
    const ended = () => {
      cleanup();
      resolve(null);
    };
    const failed = (e: Error) => {
      cleanup();
      reject(e);
    };
    stream.on('readable', readable);
    stream.once('end', ended);
    stream.once('error', failed);
  });
  if (chunk === null) return Buffer.alloc(0);
  stream.unshift(chunk);
  return chunk;
}

/** The format a file's name and first bytes say it holds. */
export function detectFormat(name: string, head: string): Format {
  const bare = name.replace(/\.gz$/i, '').toLowerCase();
  const first = head.replace(/^\uFEFF/, '').trimStart();
  const firstLine = first.split('\n', 1)[0].trim();
  if (bare.endsWith('.csv') || /^"?time"?,"?id"?,/.test(firstLine)) return 'csv';
  if (first.startsWith('[')) return 'json';
  if (first.startsWith('{')) {
    try {
      const obj = JSON.parse(firstLine) as Record<string, unknown>;
      if ('__REALTIME_TIMESTAMP' in obj || 'MESSAGE' in obj) return 'journald';
      // GET /v1/events saved as it answers, on one line.
      if (Array.isArray(obj.events)) return 'json';
      return 'ndjson';
    } catch {
      // The first line is not a whole object: one pretty-printed document ({"events": […]}).
      return 'json';
    }
  }
  if (bare.endsWith('.json')) return 'json';
  if (bare.endsWith('.ndjson') || bare.endsWith('.jsonl')) return 'ndjson';
  return 'authlog';
}

/** The collector's auth log reader (plain/.gz/stdin, syslog/RFC 3339/journald), loaded when needed. */
async function authlogReader() {
  const [input, time] = await Promise.all([import('@authwatch/collector/dist/sources/authlog-input'), import('@authwatch/collector/dist/sources/authlog-time')]);
  return { ...input, offsetFunction: time.offsetFunction };
}

export async function importFile(file: string, opts: ImportOptions): Promise<ImportTotals & { errors: string[] }> {
  let size: number | null = null;
  let raw: Readable;
  if (file === '-') {
    raw = process.stdin;
  } else {
    let st;
    try {
      st = statSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CliError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code})`}`, code === 'ENOENT' ? EXIT.REFUSED : EXIT.ERROR);
    }
    if (!st.isFile()) throw new CliError(`${file}: not a regular file (use - for stdin)`, EXIT.USAGE);
    size = st.size;
    raw = createReadStream(file);
  }
  const name = file === '-' ? 'stdin' : basename(file);
  const magic = await peek(raw);
  let input: Readable = raw;
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    input = raw.pipe(createGunzip());
    raw.on('error', (e) => input.destroy(e));
  }
  // Not packed: the first chunk already read is the head of the text.
  const head = input === raw ? magic : await peek(input);
  const format = opts.format === 'auto' ? detectFormat(file, head.toString('utf8')) : opts.format;

  const progress = new Progress(`${name} (${format})`, size, opts.progress, opts.everyMs);
  const poster = new Poster(opts.conn, opts.batch);
  const t: ImportTotals = { lines: 0, events: 0, accepted: 0, duplicates: 0, rejected: 0, skipped: 0 };
  const t0 = Date.now();
  // Progress is measured on the bytes read from the file, packed or not: its size is what is known.
  const bytes = () => (file === '-' ? 0 : (raw as ReadStream).bytesRead);
  const tick = () => progress.update({ bytes: bytes(), lines: t.lines, events: t.events });
  const push = async (events: ImportEvent[]) => {
    t.events += events.length;
    tick();
    await poster.add(events);
  };

  try {
    // An empty input has ended already: there is nothing to read (and no reader would finish).
    if (!head.length) {
      /* nothing */
    } else if (format === 'authlog' || format === 'journald') {
      const { readAuthLogSource, offsetFunction, AuthLogInputError } = await authlogReader();
      try {
        offsetFunction(opts.timezone);
      } catch (e) {
        throw new CliError(`--authlog-tz: ${(e as Error).message}`, EXIT.USAGE);
      }
      // The collector's reader on our stream (already unpacked): the events are those
      // `authwatch serve --authlog` makes, and the bytes read stay countable for the progress.
      const src = readAuthLogSource('-', { stdin: input, timezone: opts.timezone, mode: opts.mode, journal: format === 'journald' });
      try {
        for await (const events of src) {
          t.lines = src.stats.lines;
          await push(events);
        }
      } catch (e) {
        // The reader reads "stdin" (our stream): name the file instead.
        if (e instanceof AuthLogInputError) throw new CliError(e.message.replace(/^stdin/, file === '-' ? 'stdin' : file), EXIT.ERROR);
        throw e;
      }
      t.lines = src.stats.lines;
    } else if (format === 'ndjson') {
      const lines = createInterface({ input, crlfDelay: Infinity });
      for await (const line of lines) {
        t.lines++;
        if (line.trim()) {
          const r = fromJsonValue(safeJson(line), `line ${t.lines}`);
          if (r.event) await push([r.event]);
          else r.error ? poster.refuse(r.error) : t.skipped++;
        }
        if ((t.lines & 63) === 0) tick();
      }
    } else if (format === 'csv') {
      const records = input.pipe(parseCsv({ columns: true, bom: true, skip_empty_lines: true, relax_quotes: false }));
      input.on('error', (e) => records.destroy(e));
      for await (const rec of records as AsyncIterable<Record<string, string>>) {
        t.lines++;
        const r = fromCsvRecord(rec, `row ${t.lines}`);
        if (r.event) await push([r.event]);
        else r.error ? poster.refuse(r.error) : t.skipped++;
        if ((t.lines & 63) === 0) tick();
      }
    } else {
      const chunks: Buffer[] = [];
      for await (const c of input) {
        chunks.push(c as Buffer);
        tick();
      }
      const doc = safeJson(Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, ''));
      const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as { events?: unknown }).events) ? (doc as { events: unknown[] }).events : null;
      if (!list) throw new CliError(`${file}: not a JSON array of events nor {"events": […]}`, EXIT.USAGE);
      for (const item of list) {
        t.lines++;
        const r = fromJsonValue(item, `item ${t.lines}`);
        if (r.event) await push([r.event]);
        else r.error ? poster.refuse(r.error) : t.skipped++;
        if ((t.lines & 63) === 0) tick();
      }
    }
    await poster.flush();
  } catch (e) {
    progress.stop();
    if (e instanceof CliError) throw e;
    throw new CliError(`${file}: ${(e as Error).message}`, EXIT.ERROR);
  }
  tick();
  progress.stop();
  Object.assign(t, { accepted: poster.accepted, duplicates: poster.duplicates, rejected: poster.rejected });
  const s = (Date.now() - t0) / 1000;
  process.stdout.write(
    `import: ${name}: ${t.lines} lines, ${t.events} events: ${t.accepted} accepted, ${t.duplicates} duplicates, ${t.rejected} refused, ${t.skipped} skipped in ${s.toFixed(1)} s (${Math.round(t.events / Math.max(s, 0.001))} events/s)\n`,
  );
  return { ...t, errors: poster.errors };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
