#!/usr/bin/env node
// CSV export client: GETs url (a /v1/events.csv link) again and again for `duration` seconds,
// reading and discarding the body, and prints one JSON line: rows and bytes read, exports
// finished, and the rows of one whole export (its line count minus the header).
// Options (one JSON argument): url, headers, duration.
import http from 'node:http';

const o = JSON.parse(process.argv[2]);
const deadline = performance.now() + o.duration * 1000;
let rows = 0;
let bytes = 0;
let finished = 0;
let wholeRows = null;
let status = null;

function once() {
  return new Promise((resolve) => {
    const req = http.get(o.url, { headers: o.headers }, (res) => {
      status = res.statusCode;
      let lines = 0;
      res.on('data', (c) => {
        bytes += c.length;
        for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++;
        if (performance.now() > deadline) req.destroy();
      });
      res.on('end', () => {
        rows += Math.max(0, lines - 1);
        finished++;
        wholeRows ??= Math.max(0, lines - 1);
        resolve();
      });
      res.on('close', () => {
        if (!res.complete) rows += Math.max(0, lines - 1);
        resolve();
      });
    });
    req.on('error', () => resolve());
  });
}

const t0 = performance.now();
while (performance.now() < deadline) await once();
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ status, rows, bytes, seconds, rows_per_s: rows / seconds, finished, whole_export_rows: wholeRows }));
