// A node:http front for the requests every login and every application's reporter sends
// (POST /v1/check, POST /v1/events): they are answered here without express, whose per-request
// objects outlive a young-generation GC and make each scavenge cost 10–20 ms at 1,000 req/s
// (docs/bench.md, P3). Only the plain case is taken: a keyed collector, the exact path, a JSON body
// of known length from a key with the route's role. Anything else — another method or spelling
// of the path, no key or a wrong one, another content type or encoding, a chunked or oversized
// body, malformed JSON — goes to express untouched or with the body already read (PREREAD), so
// every refusal is the one express gives.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { KeyRing } from '../auth/keys';
import type { Logger } from '../log';
import { allows, bearerToken, type Access } from './auth';
import { PREREAD, type Preread } from './body';
import { errorAnswer } from './errors';
import { parseArraySliced } from './json-slices';

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export interface FastRoute {
  /** The exact request target (no query string). */
  path: string;
  access: Access;
  /** Larger bodies go to express (which applies the collector-wide limit). */
  maxBytes: number;
  /** The answer to a parsed body; may throw an HttpError (answered as express would). */
  answer(body: unknown): JsonAnswer | Promise<JsonAnswer>;
}

export interface FastPathOptions {
  keys: KeyRing;
  routes: readonly FastRoute[];
  /** Everything not taken here. */
  fallback: RequestListener;
  /** HTTP duration histogram (route, method, status, seconds). */
  record(route: string, method: string, status: number, seconds: number): void;
  log: Logger;
}

const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const LENGTH = /^\d{1,9}$/;

/** The fast route this request may take, or null (express answers it). */
function routeFor(req: IncomingMessage, byPath: ReadonlyMap<string, FastRoute>, keys: KeyRing): FastRoute | null {
  if (req.method !== 'POST' || keys.empty) return null;
  const route = byPath.get(req.url ?? '');
  if (!route) return null;
  const h = req.headers;
  const type = h['content-type'];
  const length = h['content-length'];
  if (type === undefined || !JSON_TYPE.test(type) || length === undefined || !LENGTH.test(length) || Number(length) > route.maxBytes) return null;
  if (h['transfer-encoding'] !== undefined || (h['content-encoding'] !== undefined && h['content-encoding'].toLowerCase() !== 'identity')) return null;
  const token = bearerToken(h.authorization);
  const key = token === null ? undefined : keys.find(token);
  return key && allows(route.access, key.role) ? route : null;
}

/** The same headers requestGuard sets on every /v1 answer. */
function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

const parseError = (message: string): Preread => ({ error: Object.assign(new SyntaxError(message), { type: 'entity.parse.failed', status: 400 }) });

/** body-parser's strict JSON: an object or an array (an empty body is {}), with its error messages. */
function parseStrict(text: string): Preread {
  if (text.length === 0) return { body: {} };
  const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/.exec(text)![1];
  if (first !== '{' && first !== '[') {
    // Its message for a strict violation: JSON.parse's, as if the text went wrong at that character.
    const at = first === '' ? -1 : text.indexOf(first);
    try {
      JSON.parse(at === -1 ? '' : text.slice(0, at) + '#'.repeat(text.length - at));
    } catch (e) {
      return parseError((e as Error).message.replace(/#+/g, (p) => text.substring(at, at + p.length)));
    }
  }
  try {
    return { body: JSON.parse(text) as unknown };
  } catch (e) {
    return parseError((e as Error).message);
  }
}

/** Bodies above this many characters that are arrays are parsed in slices (json-slices.ts). */
const SLICED_ABOVE = 64 * 1024;

async function parseBody(raw: string): Promise<Preread> {
  // body-parser's decoder drops a byte order mark.
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  if (text.length > SLICED_ABOVE) {
    const sliced = await parseArraySliced(text);
    if (sliced) return { body: sliced };
  }
  return parseStrict(text);
}

export function fastPath(o: FastPathOptions): RequestListener {
  const byPath = new Map(o.routes.map((r) => [r.path, r]));
  return (req, res) => {
    const route = routeFor(req, byPath, o.keys);
    if (!route) {
      o.fallback(req, res);
      return;
    }
    const start = process.hrtime.bigint();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // A client that goes away mid-body: nothing to answer, nothing kept.
    req.on('error', () => {});
    const done = (a: JsonAnswer) => {
      if (res.headersSent) return;
      send(res, a.status, a.body);
      o.record(route.path, 'POST', a.status, Number(process.hrtime.bigint() - start) / 1e9);
    };
    const answer = async () => {
      const pre = await parseBody(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      if ('error' in pre) {
        // Express answers it, from the error (errors.ts), after the same middleware as ever.
        (req as IncomingMessage & { [PREREAD]?: Preread })[PREREAD] = pre;
        o.fallback(req, res);
        return;
      }
      done(await route.answer(pre.body));
    };
    req.once('end', () => void answer().catch((err: unknown) => done(errorAnswer(err, o.log))));
  };
}
