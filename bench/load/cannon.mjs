#!/usr/bin/env node
// Load client process: runs autocannon with the options given as one JSON argument and prints a
// one-line JSON summary. Runs apart from the server under test so they do not share an event loop.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

const opts = JSON.parse(process.argv[2]);
// Large bodies (1,000-event batches) come from a file rather than argv.
if (opts.bodyFile) {
  opts.body = readFileSync(opts.bodyFile, 'utf8');
  delete opts.bodyFile;
}
// Several bodies (a JSON array of body texts): request n sends body n modulo their number.
let templates = null;
if (opts.bodiesFile) {
  templates = JSON.parse(readFileSync(opts.bodiesFile, 'utf8'));
  delete opts.bodiesFile;
}
// Unique event ids per request: every "[<id>]" in the body becomes "<run>-<n>". (autocannon's own
// idReplacement assumes a hyperid length that no longer holds and sends a wrong Content-Length.)
if (opts.uniqueIds || templates) {
  const bodies = templates ?? [opts.body];
  const unique = Boolean(opts.uniqueIds);
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  let n = 0;
  opts.requests = [
    {
      setupRequest(req) {
        const body = bodies[n % bodies.length];
        req.body = unique ? body.replaceAll('[<id>]', `${run}-${n}`) : body;
        n++;
        return req;
      },
    },
  ];
  delete opts.uniqueIds;
}
const result = await autocannon({ ...opts });
const statuses = {};
for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count;
console.log(
  JSON.stringify({
    duration_s: result.duration,
    requests: result.requests.total,
    rps: result.requests.average,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    latency_ms: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  }),
);
