#!/usr/bin/env node
// Baseline: bare node:http, read the body, JSON.parse it, answer 202 with the collector's ack shape.
// The ceiling for any JSON-over-HTTP server on this machine.
import http from 'node:http';

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let n = 0;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      n = Array.isArray(body) ? body.length : 1;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid JSON"}');
      return;
    }
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ accepted: n, duplicates: 0 }));
  });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => {
  console.log(`baseline http-echo listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
