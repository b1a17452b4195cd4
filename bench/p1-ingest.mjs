// P1: single-event ingest through the real collector vs a bare express echo (express.json() and
// a 202), 10 concurrent clients, in alternating rounds so that load from elsewhere hits both.
// Beside it: bare node:http, and what the disk allows (durable one-row commits per second).
import { join } from 'node:path';
import { fmt } from './lib/runner.mjs';

export const ids = ['P1'];

export async function run(b) {
  const collector = await b.mainCollector();
  const M = b.M;
  const load = (url, headers) =>
    b.cannon({
      url: `${url}/v1/events`, method: 'POST', body: b.singleBody, uniqueIds: true,
      headers: { 'content-type': 'application/json', ...headers },
      connections: M.p1conn, duration: M.p1s, warmup: { connections: M.p1conn, duration: 1 },
    });
  const ex = await b.start([join(b.root, 'bench/baselines/express-echo.mjs')], 'express-echo');
  const hs = await b.start([join(b.root, 'bench/baselines/http-echo.mjs')], 'http-echo');
  const rounds = [];
  for (let i = 0; i < M.rounds; i++) {
    const express = await load(ex.url, {});
    rounds.push({ express, collector: await b.phase('P1', () => load(collector.url, b.ingestH)) });
  }
  const hsR = await load(hs.url, {});
  await b.stop(ex);
  await b.stop(hs);
  const commits = await b.runJson(
    'bench/baselines/sqlite-inserts.mjs',
    { templateDb: b.templateDb, dbFile: join(b.tmp, 'baseline-commits.db'), bodyFile: b.files.plainBatch, seconds: 2, batchSize: 1, pragmas: b.pragmas.settings },
    'sqlite-commits',
  );
  const sum = (k) => rounds.reduce((n, r) => n + r[k].ok2xx, 0) / rounds.reduce((n, r) => n + r[k].duration_s, 0);
  const rps = (r) => r.ok2xx / r.duration_s;
  const coRps = sum('collector');
  const exRps = sum('express');
  const ratio = coRps / exRps;
  const perRound = rounds.map((r) => fmt(rps(r.collector) / rps(r.express)));
  const non2xx = rounds.reduce((n, r) => n + r.collector.non2xx, 0);
  const errors = rounds.reduce((n, r) => n + r.collector.errors, 0);
  b.raw.P1 = { rounds, node_http: hsR, sqlite_single_row_commits: commits };
  b.figure({
    id: 'P1', name: 'single-event ingest vs bare express echo', value: ratio, unit: 'x', target: '≥ 0.8', pass: ratio >= 0.8 && non2xx === 0 && errors === 0,
    detail: { collector_rps: coRps, express_rps: exRps, node_http_rps: rps(hsR), sqlite_commits_per_s: commits.rows_per_s, per_round: perRound, collector_non2xx: non2xx, collector_errors: errors },
    line: `P1 single-event ingest: ${fmt(ratio)}x of bare express (${fmt(coRps)} vs ${fmt(exRps)} req/s, ${M.p1conn} connections; rounds ${perRound.join(' / ')}; bare node:http ${fmt(rps(hsR))}; bare SQLite durable 1-row commits ${fmt(commits.rows_per_s)}/s; collector non-2xx ${non2xx}, errors ${errors})`,
  });
}
