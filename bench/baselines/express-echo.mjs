#!/usr/bin/env node
// Baseline for P1: bare express 5, express.json() and a 202 with the same ack shape the collector
// sends. Everything the collector does beyond parsing JSON and answering shows up in the ratio.
import express from 'express';

const app = express();
app.use(express.json({ limit: '5mb' }));
app.post('/v1/events', (req, res) => {
  const n = Array.isArray(req.body) ? req.body.length : 1;
  res.status(202).json({ accepted: n, duplicates: 0 });
});
const server = app.listen(0, '127.0.0.1', () => {
  console.log(`baseline express-echo listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
