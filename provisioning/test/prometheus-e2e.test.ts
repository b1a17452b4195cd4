// End to end with real parts: the built collector (node collector/dist/main.js, temp SQLite file,
// loopback open mode, --no-demo) scraped every second by Debian's real Prometheus evaluating the
// real rule file. Normal traffic leaves FailedLoginSpike quiet; a scripted failed-login burst
// makes it fire; stopping the collector makes CollectorDown fire.
//
// One substitution, in a temp copy of the rule file: every `for:` becomes 5s (FailedLoginSpike's
// is 2m), so the test takes seconds rather than minutes. The expressions are byte-for-byte the
// real ones (asserted below), including the 5m / 1h windows. Prometheus here has no hour of
// history, so the baseline term is the `or vector(0)` branch and the absolute floor (0.1/s) is
// what keeps normal traffic quiet; the baseline comparison itself is covered by promtool tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { RULES_FILE, buildCollector, freePort, requireBinary, sleep, start, waitFor, type Proc } from './prometheus-support';

const prometheusBin = requireBinary('/usr/bin/prometheus', 'apt-get install prometheus');
const maybe = prometheusBin ? describe : describe.skip;

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

maybe('Prometheus end to end: FailedLoginSpike and CollectorDown against the real collector', () => {
  let dir: string;
  let collector: Proc | undefined;
  let prometheus: Proc | undefined;
  let collectorUrl = '';
  let promUrl = '';

  async function alerts(): Promise<PromAlert[]> {
    const res = await fetch(`${promUrl}/api/v1/alerts`);
    const body = (await res.json()) as { data: { alerts: PromAlert[] } };
    return body.data.alerts;
  }

  async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data.result;
  }

  async function post(events: object[]): Promise<void> {
    const res = await fetch(`${collectorUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 202, body: { accepted: events.length, duplicates: 0 } });
  }

  async function loginCounts(): Promise<Record<string, number>> {
    const r = await query('sum by (outcome) (authwatch_login_attempts_total)');
    return Object.fromEntries(r.map((s) => [s.metric.outcome, Number(s.value[1])]));
  }

  /** Waits until Prometheus has a scrape of the collector taken after `since` (ms). */
  async function scrapedAfter(since: number): Promise<void> {
    await waitFor('a fresh scrape of the collector', 30_000, async () => {
      const r = await query('timestamp(up{job="authwatch-collector"})');
      return r.length === 1 && Number(r[0].value[1]) * 1000 > since ? true : undefined;
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-prom-e2e-'));
    const main = buildCollector();

    collector = start(process.execPath, [main, '--no-demo'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AUTHWATCH_HOST: '127.0.0.1',
      AUTHWATCH_PORT: '0',
      AUTHWATCH_STORE: `sqlite:${join(dir, 'authwatch.db')}`,
      AUTHWATCH_DEMO: '0',
    });
    collectorUrl = await waitFor('the collector to listen', 30_000, async () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(collector!.output());
      if (collector!.child.exitCode !== null) throw new Error(`collector exited:\n${collector!.output()}`);
      return m?.[1];
    });
    await waitFor('GET /healthz', 10_000, async () => ((await fetch(`${collectorUrl}/healthz`)).ok ? true : undefined));
    const collectorTarget = collectorUrl.replace('http://', '');

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
        scrape_configs: [{ job_name: 'authwatch-collector', metrics_path: '/metrics', static_configs: [{ targets: [collectorTarget] }] }],
      }),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = start(prometheusBin!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ], { PATH: process.env.PATH, HOME: dir });
    await waitFor('Prometheus to be ready', 60_000, async () => {
      if (prometheus!.child.exitCode !== null) throw new Error(`prometheus exited:\n${prometheus!.output()}`);
      return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
    });
    await waitFor('the collector target to be up', 30_000, async () => {
      const r = await query('up{job="authwatch-collector"}');
      return r[0]?.value[1] === '1' ? true : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await collector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('normal traffic: FailedLoginSpike stays quiet; Prometheus sees exact counts', async () => {
    // Three waves of 7 successes + 1 failure, each scraped before the next, so the failure rate
    // Prometheus computes is above zero (a counter's first sample carries no rate) but under the floor.
    const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
    for (let wave = 0; wave < 3; wave += 1) {
      const sent = Date.now();
      await post([
        ...users.map((user, i) => ({ type: 'login', outcome: 'success', user, ip: `198.51.100.${10 + i}`, service: 'shop' })),
        { type: 'login', outcome: 'failure', reason: 'invalid_password', user: users[wave], ip: `198.51.100.${10 + wave}`, service: 'shop' },
      ]);
      await scrapedAfter(sent);
    }
    expect(await loginCounts()).toEqual({ success: 21, failure: 3 });
    // The histogram (served with a `# UNIT` line) is ingested too, labelled by route pattern.
    const posts = await query('authwatch_http_request_duration_seconds_count{route="/v1/events",method="POST",status="202"}');
    expect(posts.map((s) => Number(s.value[1]))).toEqual([3]);

    // Give the rule several evaluations (1 s each) over the normal-traffic data.
    await sleep(8000);
    const rate = await query('sum(rate(authwatch_login_attempts_total{outcome="failure"}[5m]))');
    console.log(`normal traffic: failure rate ${rate[0]?.value[1] ?? 'none'}/s (floor 0.1/s)`);
    expect(Number(rate[0]?.value[1])).toBeGreaterThan(0);
    const spike = (await alerts()).filter((a) => a.labels.alertname === 'FailedLoginSpike');
    expect(spike).toEqual([]);
    expect((await alerts()).filter((a) => a.labels.alertname === 'CollectorDown')).toEqual([]);
  }, 60_000);

  test('a failed-login burst makes FailedLoginSpike fire', async () => {
    // Credential stuffing: 40 accounts x 3 wrong passwords, one IP per account.
    const burst = Array.from({ length: 120 }, (_, i) => ({
      type: 'login', outcome: 'failure', reason: 'invalid_password', user: `victim${i % 40}`, ip: `203.0.113.${i % 40}`, service: 'shop',
    }));
    const t0 = Date.now();
    for (let i = 0; i < burst.length; i += 30) await post(burst.slice(i, i + 30));
    const sent = Date.now();
    console.log(`burst of ${burst.length} failures posted in ${sent - t0} ms`);

    let last: PromAlert[] = [];
    let pendingAt: number | undefined;
    const firing = await waitFor('FailedLoginSpike to fire', FIRING_WAIT_MS, async () => {
      last = (await alerts()).filter((a) => a.labels.alertname === 'FailedLoginSpike');
      if (!pendingAt && last.some((a) => a.state === 'pending')) pendingAt = Date.now();
      return last.find((a) => a.state === 'firing');
    }, 500).catch((err: Error) => {
      throw new Error(`${err.message}\nlast FailedLoginSpike state: ${JSON.stringify(last)}\nprometheus log:\n${prometheus?.output()}`);
    });
    const firedAt = Date.now();
    console.log(
      `FailedLoginSpike: pending after ${pendingAt ? ((pendingAt - sent) / 1000).toFixed(1) : '?'} s, ` +
        `firing after ${((firedAt - sent) / 1000).toFixed(1)} s (for: ${TEST_FOR}); value ${firing.value} failures/s`,
    );
    expect(firing.labels).toEqual({ alertname: 'FailedLoginSpike', severity: 'critical' });
    expect(Number(firing.value)).toBeGreaterThan(0.1);

    expect(await loginCounts()).toEqual({ success: 21, failure: 123 });
  }, FIRING_WAIT_MS + 30_000);

  test('stopping the collector makes CollectorDown fire', async () => {
    const stoppedAt = Date.now();
    await collector!.stop();
    let last: PromAlert[] = [];
    const down = await waitFor('CollectorDown to fire', FIRING_WAIT_MS, async () => {
      last = (await alerts()).filter((a) => a.labels.alertname === 'CollectorDown');
      return last.find((a) => a.state === 'firing');
    }, 500).catch((err: Error) => {
      throw new Error(`${err.message}\nlast CollectorDown state: ${JSON.stringify(last)}`);
    });
    console.log(`CollectorDown firing ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after the collector stopped`);
    expect(down.labels).toMatchObject({ alertname: 'CollectorDown', severity: 'critical', job: 'authwatch-collector' });
  }, FIRING_WAIT_MS + 30_000);
});
