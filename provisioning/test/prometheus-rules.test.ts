// The Prometheus config and rule files as Prometheus itself judges them: promtool check config,
// check rules, and the rule unit tests (every rule has a firing and a quiet case).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { PROMETHEUS_CONFIG, REPO, RULES_FILE, RULES_TEST_FILE, requireBinary } from './prometheus-support';

const promtool = requireBinary('/usr/bin/promtool', 'apt-get install prometheus');
const withPromtool = promtool ? test : test.skip;

function run(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(promtool!, args, { cwd: REPO, encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  console.log(`promtool ${args.join(' ')}\n${output}`);
  return { status: r.status, output };
}

interface RuleTestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}
interface RulesFile {
  groups: { rules: { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

describe('Prometheus provisioning', () => {
  withPromtool('promtool check config accepts prometheus.yml (and the rule file it loads)', () => {
    const r = run(['check', 'config', PROMETHEUS_CONFIG]);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/SUCCESS: 1 rule files found/);
  });

  withPromtool('promtool check rules accepts the rule file', () => {
    const r = run(['check', 'rules', RULES_FILE]);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/SUCCESS: 6 rules found/);
  });

  withPromtool('promtool test rules passes', () => {
    const r = run(['test', 'rules', RULES_TEST_FILE]);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.output).not.toMatch(/FAILED/);
  });

  test('every alert rule has a severity, a summary, a description, and a firing and a quiet test case', () => {
    const rules = (YAML.parse(readFileSync(RULES_FILE, 'utf8')) as RulesFile).groups.flatMap((g) => g.rules);
    const alerts = rules.filter((r) => r.alert).map((r) => r.alert!);
    expect(alerts.sort()).toEqual(
      ['CollectorDown', 'FailedLoginRatioHigh', 'FailedLoginSpike', 'IngestRejectionsHigh', 'LockoutStorm', 'PasswordSpray'].sort(),
    );
    for (const r of rules) {
      expect([r.alert, r.labels?.severity]).toEqual([r.alert, expect.stringMatching(/^(critical|warning)$/)]);
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toBeTruthy();
    }
    const cases = (YAML.parse(readFileSync(RULES_TEST_FILE, 'utf8')) as RuleTestFile).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of alerts) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect({ alert, fires: mine.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: mine.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({ alert, quiet: true });
    }
  });

  test('prometheus.yml scrapes the collector at collector:4600 as job authwatch-collector', () => {
    const cfg = YAML.parse(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = cfg.scrape_configs.find((s) => s.job_name === 'authwatch-collector');
    expect(job?.static_configs[0].targets).toEqual(['collector:4600']);
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(cfg.rule_files).toEqual(['rules/authwatch.rules.yml']);
  });
});
