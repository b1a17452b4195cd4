// docker-compose.yml and the Prometheus config are valid for the real tools (Debian's
// docker-compose and promtool, as CI installs them), and the stack is wired the way the docs say.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..', '..');
const inCI = process.env.CI === 'true';

function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/** In CI a missing tool is a failure; on a developer machine the test says why it did not run. */
function requireBinary(name: string, aptPackage: string): boolean {
  if (hasBinary(name)) return true;
  const message = `${name} is not installed (apt-get install ${aptPackage})`;
  if (inCI) throw new Error(`${message}: CI must validate with it`);
  console.warn(`skipping: ${message}`);
  return false;
}

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  environment?: Record<string, string | null>;
  volumes?: Array<string | { type: string; source: string; target: string }>;
  healthcheck?: unknown;
  command?: string[] | string;
  profiles?: string[];
}

function pluginIds(): string[] {
  const ids: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name === 'plugin.json') ids.push((JSON.parse(readFileSync(join(dir, e.name), 'utf8')) as { id: string }).id);
    }
  };
  walk(join(root, 'plugin', 'src'));
  return ids.sort();
}

describe('docker-compose.yml', () => {
  test('docker-compose config -q accepts it', () => {
    if (!requireBinary('docker-compose', 'docker-compose')) return;
    const r = run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
    if (r.status !== 0) console.error(r.out);
    expect(r.status).toBe(0);
  });

  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;

  test('runs Grafana, the collector, Prometheus, the OpenTelemetry Collector, Loki and the demo', () => {
    // `docker compose up` starts the services without a profile; the scale-out stack is its own profile.
    const byDefault = Object.keys(services).filter((n) => !services[n].profiles?.length);
    expect(byDefault.sort()).toEqual(['collector', 'demo', 'grafana', 'loki', 'otel-collector', 'prometheus']);
    const scale = Object.keys(services).filter((n) => services[n].profiles?.includes('scale'));
    expect(scale.sort()).toEqual(['collector-1', 'collector-2', 'collector-3', 'lb', 'postgres']);
    // Pinned images: a tag that is a version, never latest.
    for (const name of ['grafana', 'prometheus', 'otel-collector', 'loki']) {
      expect(services[name].image).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
    expect(services.collector.build?.dockerfile).toBe('collector/Dockerfile');
    expect(services.demo.build?.target).toBe('demo');
    expect(existsSync(join(root, 'collector', 'Dockerfile'))).toBe(true);
  });

  test('Grafana: only our plugins may load unsigned, no anonymous access, every mounted path exists', () => {
    const env = services.grafana.environment ?? {};
    expect(String(env.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).split(',').sort()).toEqual(pluginIds());
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:-.+\}$/);
    const mounts = (services.grafana.volumes ?? []).map(String).filter((v) => v.startsWith('./'));
    // plugin/dist is the build output (npm run build -w plugin), not in a fresh clone.
    for (const m of mounts.filter((v) => !v.startsWith('./plugin/dist'))) {
      expect([m, existsSync(join(root, m.split(':')[0]))]).toEqual([m, true]);
    }
    expect(mounts).toContain('./plugin/dist:/var/lib/grafana/plugins/authwatch-monitor-app:ro');
    // The dashboard provider reads where the generated dashboards are mounted.
    const provider = parse(readFileSync(join(root, 'provisioning', 'dashboards', 'authwatch.yaml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(mounts).toContain(`./plugin/src/dashboards:${provider.providers[0].options.path}:ro`);
  });

  test('every environment variable the Grafana provisioning files use is set for the Grafana container', () => {
    const env = services.grafana.environment ?? {};
    const used = new Set<string>();
    for (const dir of ['datasources', 'plugins', 'dashboards', 'alerting']) {
      const full = join(root, 'provisioning', dir);
      if (!existsSync(full)) continue;
      for (const f of readdirSync(full).filter((n) => /\.ya?ml$/.test(n))) {
        const text = readFileSync(join(full, f), 'utf8')
          .split('\n')
          .filter((l) => !l.trimStart().startsWith('#'))
          .join('\n');
        // Grafana expands $VAR, ${VAR} and $__env{VAR}; {{ $labels.x }} templates start lower-case.
        for (const m of text.matchAll(/\$__env\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{?([A-Z][A-Z0-9_]*)\}?/g)) used.add(m[1] ?? m[2]);
      }
    }
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((v) => !(v in env)).sort()).toEqual([]);
  });

  test('the collector needs keys on 0.0.0.0: the compose file gives it ingest, read and admin keys', () => {
    const env = services.collector.environment ?? {};
    expect(env.AUTHWATCH_HOST).toBe('0.0.0.0');
    for (const k of ['AUTHWATCH_INGEST_KEYS', 'AUTHWATCH_READ_KEYS', 'AUTHWATCH_ADMIN_KEYS']) expect(env[k]).toBeTruthy();
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
  });

  test('the OpenTelemetry Collector config sends logs to Loki over OTLP and references only components it defines', () => {
    const cfg = parse(readFileSync(join(root, 'provisioning', 'otel-collector', 'config.yaml'), 'utf8')) as {
      receivers: Record<string, unknown>;
      processors: Record<string, unknown>;
      exporters: Record<string, { endpoint?: string }>;
      extensions?: Record<string, unknown>;
      service: { extensions?: string[]; pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }> };
    };
    for (const [name, p] of Object.entries(cfg.service.pipelines)) {
      for (const r of p.receivers) expect([name, r, r in cfg.receivers]).toEqual([name, r, true]);
      for (const x of p.processors ?? []) expect([name, x, x in cfg.processors]).toEqual([name, x, true]);
      for (const e of p.exporters) expect([name, e, e in cfg.exporters]).toEqual([name, e, true]);
    }
    for (const e of cfg.service.extensions ?? []) expect(e in (cfg.extensions ?? {})).toBe(true);
    const logExporters = cfg.service.pipelines.logs.exporters.map((e) => cfg.exporters[e]);
    expect(logExporters.map((e) => e.endpoint)).toContain('http://loki:3100/otlp');
    const mounted = (services['otel-collector'].volumes ?? []).map(String);
    expect(mounted).toContain('./provisioning/otel-collector/config.yaml:/etc/otelcol-contrib/config.yaml:ro');
  });
});

describe('Prometheus config', () => {
  test('promtool check config accepts provisioning/prometheus/prometheus.yml and its rule files', () => {
    if (!requireBinary('promtool', 'prometheus')) return;
    const r = run('promtool', ['check', 'config', 'provisioning/prometheus/prometheus.yml']);
    if (r.status !== 0) console.error(r.out);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
  });
});
