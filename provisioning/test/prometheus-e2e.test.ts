// End to end with real parts: the built collector (node collector/dist/main.js, temp SQLite file,
// loopback open mode, --no-demo) scraped every second by Debian's real Prometheus evaluating the
// real rule file. Normal traffic leaves FailedLoginSpike quiet; a scripted failed-login burst
// makes it fire; stopping the collector makes CollectorDown fire.
//
// One substitution, in a temp copy of the rule file: every `for:` becomes 5s (FailedLoginSpike's
// is 2m), so the test takes seconds rather than minutes. The expressions are byte-for-byte the
// real ones (asserted below), including the 5m / 1h windows.
//
// The first stack starts with an empty Prometheus: the baseline term is the `or vector(0)` branch
// and the absolute floor (0.1/s) is what keeps normal traffic quiet. The second stack gets an hour
// of history backfilled with `promtool tsdb create-blocks-from openmetrics` (a steady 0.5 failed
// logins/s on the very series the collector exposes), so the baseline is real: a burst that would
// fire on an empty Prometheus stays quiet, and only a burst above 3x the baseline fires.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { RULES_FILE, buildCollector, freePort, requireBinary, sleep, start, waitFor, type Proc } from './prometheus-support';

const prometheusBin = requireBinary('/usr/bin/prometheus', 'apt-get install prometheus');
const promtoolBin = requireBinary('/usr/bin/promtool', 'apt-get install prometheus');
const maybe = prometheusBin && promtoolBin ? describe : describe.skip;

const TEST_FOR = '5s';
const FIRING_WAIT_MS = 90_000;

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

interface RulesDoc {
  groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[];
}


type Sample = { metric: Record<string, string>; value: [number, string] };

/** A running collector + Prometheus pair, with small API helpers. */
interface Stack {
  collectorUrl: string;
  collector: Proc;
  prometheus: Proc;
  alerts(name: string): Promise<PromAlert[]>;
  query(promql: string): Promise<Sample[]>;
  post(events: object[]): Promise<void>;
  loginCounts(): Promise<Record<string, number>>;
  /** Waits until Prometheus has a scrape of the collector taken after `since` (ms). */
  scrapedAfter(since: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the built collector and a Prometheus scraping it every second with the test rule copy.
 * `history(target)` may return OpenMetrics text to backfill before Prometheus starts.
 */
async function startStack(history?: (target: string) => string): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-prom-e2e-'));
  const main = buildCollector();
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const collector = start(process.execPath, [main, '--no-demo'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: '0',
      AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`,
      AUTHWATCH_DEMO: '0',
    });
    procs.push(collector);
    const collectorUrl = await waitFor('the collector to listen', 30_000, async () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(collector.output());
      if (collector.child.exitCode !== null) throw new Error(`collector exited:\n${collector.output()}`);
      return m?.[1];
    });
    await waitFor('GET /healthz', 10_000, async () => ((await fetch(`${collectorUrl}/healthz`)).ok ? true : undefined));
    const target = collectorUrl.replace('http://', '');

    // The real rule file with only `for:` shortened (see the header comment).
    const rules = YAML.parse(readFileSync(RULES_FILE, 'utf8')) as RulesDoc;
    const testRules = structuredClone(rules);
    for (const g of testRules.groups) for (const r of g.rules) r.for = TEST_FOR;
    writeFileSync(join(dir, 'rules.yml'), YAML.stringify(testRules));
    // Guard the substitution: the expressions Prometheus evaluates are the committed ones.
    const loaded = YAML.parse(readFileSync(join(dir, 'rules.yml'), 'utf8')) as RulesDoc;
    expect(loaded.groups.flatMap((g) => g.rules.map((r) => r.expr))).toEqual(rules.groups.flatMap((g) => g.rules.map((r) => r.expr)));

    writeFileSync(
      join(dir, 'prometheus.yml'),
      YAML.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
        rule_files: [join(dir, 'rules.yml')],
        scrape_configs: [{ job_name: 'authwatch-collector', metrics_path: '/metrics', static_configs: [{ targets: [target] }] }],
      }),
    );
    if (history) {
      writeFileSync(join(dir, 'history.om'), history(target));
      const r = spawnSync(promtoolBin!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'history.om'), join(dir, 'tsdb')], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`backfill failed:\n${r.stdout}${r.stderr}`);
    }
    const promPort = await freePort();
    const promUrl = `http://127.0.0.1:${promPort}`;
    const prometheus = start(prometheusBin!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ], { PATH: process.env.PATH, HOME: dir });
    procs.push(prometheus);

    const query = async (promql: string): Promise<Sample[]> => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
      if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
      return body.data.result;
    };
    await waitFor('Prometheus to be ready', 60_000, async () => {
      if (prometheus.child.exitCode !== null) throw new Error(`prometheus exited:\n${prometheus.output()}`);
      return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
    });
    await waitFor('the collector target to be up', 30_000, async () => {
      const r = await query('up{job="authwatch-collector"}');
      return r[0]?.value[1] === '1' ? true : undefined;
    });

    return {
      collectorUrl,
      collector,
      prometheus,
      query,
      async alerts(name) {
        const res = await fetch(`${promUrl}/api/v1/alerts`);
        const body = (await res.json()) as { data: { alerts: PromAlert[] } };
        return body.data.alerts.filter((a) => a.labels.alertname === name);
      },
      async post(events) {
        const res = await fetch(`${collectorUrl}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(events),
        });
        expect({ status: res.status, body: await res.json() }).toEqual({ status: 202, body: { accepted: events.length, duplicates: 0 } });
      },
      async loginCounts() {
        const r = await query('sum by (outcome) (authwatch_login_attempts_total)');
        return Object.fromEntries(r.map((x) => [x.metric.outcome, Number(x.value[1])]));
      },
      async scrapedAfter(since) {
        await waitFor('a fresh scrape of the collector', 30_000, async () => {
          const r = await query('timestamp(up{job="authwatch-collector"})');
          return r.length === 1 && Number(r[0].value[1]) * 1000 > since ? true : undefined;
        });
      },
      stop,
    };
  } catch (err) {
    const logs = procs.map((p) => p.output()).join('\n---\n');
    await stop();
    throw new Error(`${String(err)}\n${logs}`);
  }
}

/** Polls /api/v1/alerts until `name` is firing (bounded), printing how long pending/firing took. */
async function waitFiring(stack: Stack, name: string, since: number): Promise<PromAlert> {
  let last: PromAlert[] = [];
  let pendingAt: number | undefined;
  const firing = await waitFor(`${name} to fire`, FIRING_WAIT_MS, async () => {
    last = await stack.alerts(name);
    if (!pendingAt && last.some((a) => a.state === 'pending')) pendingAt = Date.now();
    return last.find((a) => a.state === 'firing');
  }, 500).catch((err: Error) => {
    throw new Error(`${err.message}\nlast ${name} state: ${JSON.stringify(last)}\nprometheus log:\n${stack.prometheus.output()}`);
  });
  console.log(
    `${name}: pending after ${pendingAt ? ((pendingAt - since) / 1000).toFixed(1) : '?'} s, ` +
      `firing after ${((Date.now() - since) / 1000).toFixed(1)} s (for: ${TEST_FOR}); value ${Number(firing.value).toFixed(3)}`,
  );
  return firing;
}

const failures = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({
    type: 'login', outcome: 'failure', reason: 'invalid_password', service: 'shop',
    user: `${prefix}${i % Math.ceil(n / 3)}`, ip: `10.${Math.floor(i / 250) % 250}.${i % 250}.7`,
  }));

maybe('Prometheus end to end: FailedLoginSpike and CollectorDown against the real collector', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  test('normal traffic: FailedLoginSpike stays quiet; Prometheus sees exact counts', async () => {
    // Three waves of 7 successes + 1 failure, each scraped before the next, so the failure rate
    // Prometheus computes is above zero (a counter's first sample carries no rate) but under the floor.
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
    for (let wave = 0; wave < 3; wave += 1) {
      const sent = Date.now();
      await stack.post([
        ...users.map((user, i) => ({ type: 'login', outcome: 'success', user, ip: `198.51.100.${10 + i}`, service: 'shop' })),
        { type: 'login', outcome: 'failure', reason: 'invalid_password', user: users[wave], ip: `198.51.100.${10 + wave}`, service: 'shop' },
      ]);
      await stack.scrapedAfter(sent);
    }
    expect(await stack.loginCounts()).toEqual({ success: 21, failure: 3 });
    // The histogram (served with a `# UNIT` line) is ingested too, labelled by route pattern.
    const posts = await stack.query('authwatch_http_request_duration_seconds_count{route="/v1/events",method="POST",status="202"}');
    expect(posts.map((x) => Number(x.value[1]))).toEqual([3]);

    // Give the rule several evaluations (1 s each) over the normal-traffic data.
    await sleep(8000);
    const rate = await stack.query('sum(rate(authwatch_login_attempts_total{outcome="failure"}[5m]))');
    console.log(`normal traffic: failure rate ${rate[0]?.value[1] ?? 'none'}/s (floor 0.1/s, no history)`);
    expect(Number(rate[0]?.value[1])).toBeGreaterThan(0);
    expect(await stack.alerts('FailedLoginSpike')).toEqual([]);
    expect(await stack.alerts('CollectorDown')).toEqual([]);
  }, 60_000);

  test('a failed-login burst makes FailedLoginSpike fire', async () => {
    // Credential stuffing: 40 accounts x 3 wrong passwords.
    const burst = failures(120, 'victim');
    const t0 = Date.now();
    for (let i = 0; i < burst.length; i += 30) await stack.post(burst.slice(i, i + 30));
    const sent = Date.now();
    console.log(`burst of ${burst.length} failures posted in ${sent - t0} ms`);
    const firing = await waitFiring(stack, 'FailedLoginSpike', sent);
    expect(firing.labels).toEqual({ alertname: 'FailedLoginSpike', severity: 'critical' });
    expect(Number(firing.value)).toBeGreaterThan(0.1);
    expect(await stack.loginCounts()).toEqual({ success: 21, failure: 123 });
  }, FIRING_WAIT_MS + 30_000);

  test('stopping the collector makes CollectorDown fire', async () => {
    const stoppedAt = Date.now();
    await stack.collector.stop();
    const down = await waitFiring(stack, 'CollectorDown', stoppedAt);
    expect(down.labels).toMatchObject({ alertname: 'CollectorDown', severity: 'critical', job: 'authwatch-collector' });
  }, FIRING_WAIT_MS + 30_000);
});

maybe('Prometheus end to end with an hour of backfilled history: the baseline is real', () => {
  const BASELINE_PER_S = 0.5;
  let stack: Stack;

  beforeAll(async () => {
    // 70 minutes up to one minute ago, one sample every 10 s, on the exact series (job, instance,
    // outcome, reason, service) the collector will expose: a steady 0.5 failed logins/s.
    stack = await startStack((target) => {
      const now = Math.floor(Date.now() / 1000);
      const lines = ['# TYPE authwatch_login_attempts counter'];
      const labels = `instance="${target}",job="authwatch-collector",outcome="failure",reason="invalid_password",service="shop"`;
      for (let t = now - 70 * 60, v = 0; t <= now - 60; t += 10, v += BASELINE_PER_S * 10) {
        lines.push(`authwatch_login_attempts_total{${labels}} ${v} ${t}`);
      }
      return `${lines.join('\n')}\n# EOF\n`;
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  test('a burst within 3x the baseline stays quiet; one above it fires', async () => {
    const baseline = await stack.query('sum(rate(authwatch_login_attempts_total{outcome="failure"}[1h] offset 5m))');
    console.log(`backfilled baseline: ${baseline[0]?.value[1]} failures/s`);
    expect(Number(baseline[0]?.value[1])).toBeCloseTo(BASELINE_PER_S, 1);

    // 150 failures at once: on an empty Prometheus this fires (see above); here the 5m rate stays
    // under 3x the baseline (1.5/s).
    let sent = Date.now();
    await stack.post(failures(150, 'usual'));
    await stack.scrapedAfter(sent);
    await sleep(8000);
    const rate = await stack.query('sum(rate(authwatch_login_attempts_total{outcome="failure"}[5m]))');
    console.log(`after 150 failures: 5m rate ${rate[0]?.value[1]}/s, threshold ${3 * BASELINE_PER_S}/s, floor 0.1/s`);
    expect(Number(rate[0]?.value[1])).toBeGreaterThan(0.1); // above the floor: only the baseline holds it
    expect(Number(rate[0]?.value[1])).toBeLessThan(3 * BASELINE_PER_S);
    expect(await stack.alerts('FailedLoginSpike')).toEqual([]);

    // 900 more: well above 3x the baseline.
    const burst = failures(900, 'target');
    for (let i = 0; i < burst.length; i += 300) await stack.post(burst.slice(i, i + 300));
    sent = Date.now();
    const firing = await waitFiring(stack, 'FailedLoginSpike', sent);
    expect(Number(firing.value)).toBeGreaterThan(3 * BASELINE_PER_S);
  }, FIRING_WAIT_MS + 60_000);
});
