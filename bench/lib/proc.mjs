// Starting and stopping the processes a benchmark talks to: each server is its own OS process that
// prints "… listening on http://HOST:PORT" once it accepts connections.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LISTENING = /listening on (http:\/\/\S+)/;

/**
 * Spawns `node <args>` and resolves once it prints its listening URL.
 * Returns { url, pid, child, output(), stop(), kill() }.
 */
export function startServer(args, { env = {}, cwd, name = args[0], timeoutMs = 60000 } = {}) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (chunk) => {
    out += chunk;
    if (out.length > 200000) out = out.slice(-100000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print a listening URL within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = () => {
      const m = LISTENING.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      resolve({
        url: m[1].replace(/\/$/, ''),
        pid: child.pid,
        child,
        exited,
        output: () => out,
        /** SIGTERM, then SIGKILL after graceMs. */
        async stop(graceMs = 10000) {
          if (child.exitCode !== null || child.signalCode !== null) return exited;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const r = await exited;
          clearTimeout(t);
          return r;
        },
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          return exited;
        },
      });
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

/** Resident set size of a live process in MiB (Linux /proc). */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) of a live process in MiB. */
export function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs `node <args>` to completion and parses the last stdout line as JSON (load clients, loaders). */
export function runJsonProcess(args, { env = {}, cwd, name = args[0], nodeArgs = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${name} exited ${code}:\n${err}\n${out}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${name} printed no JSON result:\n${err}\n${out}`));
      }
    });
  });
}

/** CPU time (user + system) a live process has used, in clock ticks (Linux /proc). */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return null;
  }
}

/**
 * Waits until a process is idle (under 5% of one core over a second), at most maxMs; resolves
 * with how long it stayed busy. Work a server queued during one load (sinks, checkpoints) would
 * otherwise be billed to the next measurement.
 */
export async function settle(pid, maxMs = 30000) {
  const t0 = Date.now();
  let before = cpuTicks(pid);
  while (Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuTicks(pid);
    if (now === null || before === null) break;
    if (now - before <= 5) break; // 100 ticks/s: 5 ticks = 5%
    before = now;
  }
  return Date.now() - t0;
}
