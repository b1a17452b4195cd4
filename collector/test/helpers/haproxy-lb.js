// A real HAProxy (the Debian package) on loopback in front of collector replicas, round robin, as
// the scale-out topology runs (docs/scale-out.md): one configuration for the scale-out tests
// (through haproxy.ts) and the P8 bench (bench/p8-postgres.mjs), so both measure the same proxy.
// Each response says which replica served it (X-Served-By). Stopped by its PID.
// Plain CommonJS so that both jest (TypeScript) and the bench (an ES module) can load it.
'use strict';
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** A port free on 127.0.0.1 right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * haproxy.cfg text: backends "127.0.0.1:port" each, named r1, r2, … in order. `log`: one line per
 * request on HAProxy's output, with its timers (queue / connect / response).
 */
function haproxyConfig(port, backends, { log = false } = {}) {
  return [
    'global',
    '  maxconn 4096',
    ...(log ? ['  log stdout format raw local0'] : []),
    'defaults',
    '  mode http',
    ...(log ? ['  log global', '  option httplog'] : []),
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  option http-keep-alive',
    // A replica busy with a 1,000-event batch leaves its event loop for 0.5-0.8 s on this machine:
    // with the check timing out after inter (200 ms) both replicas were marked down during
    // ingest and requests queued in HAProxy with no server. A dead replica refuses at once.
    '  timeout check 2s',
    '  retries 2',
    // A connection a dead replica refuses goes to the other one; a request that reached a
    // replica is never sent again by the proxy (the client decides, with its event ids).
    '  option redispatch',
    '  retry-on conn-failure',
    'frontend authwatch',
    `  bind 127.0.0.1:${port}`,
    '  http-response set-header X-Served-By %s',
    '  default_backend collectors',
    'backend collectors',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    ...backends.map((b, i) => `  server r${i + 1} ${b} check inter 200ms fall 2 rise 1`),
    '',
  ].join('\n');
}

/** Starts HAProxy; resolves once each backend has answered through it. */
async function startHaproxy(backends, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-haproxy-'));
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, backends, options));
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  // Ready once each backend has answered through it (round robin: as many tries as backends).
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${out}`);
    const served = new Set();
    for (let i = 0; i < backends.length * 2; i++) {
      const r = await fetch(`${url}/healthz`).catch(() => null);
      if (r?.ok) served.add(r.headers.get('x-served-by') ?? '');
      await r?.text();
    }
    if (served.size === backends.length) break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`haproxy did not reach every backend: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    pid: child.pid,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { freePort, haproxyConfig, startHaproxy };
