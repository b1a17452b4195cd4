#!/usr/bin/env node
// `npm start`: runs the collector, waits until it answers /healthz, then (unless the demo is off)
// the demo login app with its traffic generator, which reports to that collector. Prints where
// everything is and how to query it. Signals are passed on; it exits when its children do.
//
//   npm start                      collector + demo traffic
//   npm start -- --no-demo         collector only (AUTHWATCH_DEMO=0 does the same)
//   npm start -- --port 4700       any other flag goes to the collector
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const demoOff = args.includes('--no-demo') || /^(0|false|no|off)$/i.test(process.env.AUTHWATCH_DEMO ?? '');
// The collector gets every flag, --no-demo included, so the switch reaches it whichever way it came.
const collectorArgs = demoOff && !args.includes('--no-demo') ? [...args, '--no-demo'] : args;

const children = new Set();
let stopping = false;
let exitCode = 0;

function say(line) {
  process.stdout.write(`[start] ${line}\n`);
}

/** Starts a node process, echoes its output, and resolves the first line matching `ready`. */
function launch(name, script, argv, env, ready) {
  const child = spawn(process.execPath, [join(root, script), ...argv], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.authwatchName = name;
  children.add(child);
  let found;
  const readyLine = new Promise((resolve, reject) => {
    found = { resolve, reject };
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    process.stdout.write(`${line}\n`);
    const m = ready.exec(line);
    if (m) found.resolve(m);
  });
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`${line}\n`));
  child.on('exit', (code, signal) => {
    children.delete(child);
    found.reject(new Error(`${name} exited (${signal ?? code}) before it was ready`));
    if (!stopping) {
      say(`${name} exited (${signal ?? `code ${code}`}); stopping`);
      exitCode = code || 1;
      stop('SIGTERM');
    }
    if (children.size === 0) process.exit(exitCode);
  });
  return readyLine;
}

/**
 * Stops the demo first so it can deliver what it has queued, then the collector (after the demo
 * exited, or 5 s at most).
 */
function stop(signal) {
  if (children.size === 0) process.exit(exitCode);
  if (stopping) {
    for (const child of children) child.kill(signal);
    return;
  }
  stopping = true;
  const demo = [...children].find((c) => c.authwatchName === 'demo');
  const rest = () => {
    for (const child of children) if (child !== demo) child.kill(signal);
  };
  if (!demo) return rest();
  const timer = setTimeout(rest, 5_000);
  demo.once('exit', () => {
    clearTimeout(timer);
    rest();
  });
  demo.kill(signal);
}

process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

async function waitHealthy(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`collector at ${url} did not answer /healthz within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The secret of the first entry of a key list; entries are `secret` or `name:secret` as the collector reads them. */
function firstKey(list) {
  const entry = (list ?? '')
    .split(',')
    .map((k) => k.trim())
    .find(Boolean);
  if (!entry) return undefined;
  const colon = entry.indexOf(':');
  const named = colon > 0 && /^[A-Za-z0-9_.@-]{1,64}$/.test(entry.slice(0, colon)) && colon < entry.length - 1;
  return named ? entry.slice(colon + 1) : entry;
}

async function main() {
  const listening = await launch(
    'collector',
    'collector/dist/main.js',
    collectorArgs,
    process.env,
    /authwatch collector listening on (http:\/\/\S+)/,
  );
  const collectorUrl = listening[1].replace(/\/$/, '');
  await waitHealthy(collectorUrl, 30_000);

  let demoUrl;
  if (!demoOff) {
    const ingestKey = process.env.AUTHWATCH_DEMO_INGEST_KEY || firstKey(process.env.AUTHWATCH_INGEST_KEYS);
    const env = { ...process.env, AUTHWATCH_URL: collectorUrl };
    if (ingestKey) env.AUTHWATCH_INGEST_KEY = ingestKey;
    const demo = await launch('demo', 'demo/dist/main.js', [], env, /authwatch demo app listening on (http:\/\/\S+)/);
    demoUrl = demo[1];
  }

  const readKey = firstKey(process.env.AUTHWATCH_READ_KEYS) || firstKey(process.env.AUTHWATCH_ADMIN_KEYS);
  const auth = readKey ? ` -H "Authorization: Bearer $AUTHWATCH_READ_KEY"` : '';
  const lines = [
    '',
    `Authwatch collector  ${collectorUrl}   (metrics: ${collectorUrl}/metrics)`,
    demoOff ? 'Demo                 off (--no-demo / AUTHWATCH_DEMO=0)' : `Demo login app       ${demoUrl}   (traffic generator running)`,
    '',
    'Query it:',
    `  curl -s${auth} '${collectorUrl}/v1/sessions?state=active'`,
    `  curl -s${auth} '${collectorUrl}/v1/events?outcome=failure&limit=20'`,
    `  curl -s${auth} '${collectorUrl}/v1/lockouts?state=locked'`,
    `  curl -s${auth} '${collectorUrl}/v1/events.csv?type=login' > logins.csv`,
    readKey ? '  (export AUTHWATCH_READ_KEY=<one of AUTHWATCH_READ_KEYS> first)' : '  (no keys configured: open on loopback only)',
    'Grafana, Prometheus, Loki: docker compose up (see docs/fullstack.md). Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  say(err.message);
  exitCode = 1;
  stop('SIGTERM');
});
