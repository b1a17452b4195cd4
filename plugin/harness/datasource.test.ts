// Issue 4's proof in a real browser: the BUILT data source module, loaded into Chromium the way
// Grafana loads it, queries the live collector through the plugin.json route proxy and turns the
// answers into the frames Grafana panels expect. The collector keys never reach the page.
import type { Page } from 'playwright-core';

import type { Harness } from './page/main';
import { realisticEvents, seedCollector } from './seed';
import { GRAFANA_SHARED_NAMES } from './page/grafana-shared';
import { browserAvailable, DS_NAME, DS_WRONG_KEY_NAME, Stack, startStack } from './stack';

const run = browserAvailable() ? describe : describe.skip;

interface Frame {
  name?: string;
  fields: Array<{ name: string; type: string; values: unknown[] }>;
}

function field(frame: Frame, name: string) {
  const f = frame.fields.find((x) => x.name === name);
  if (!f) {
    throw new Error(`frame ${frame.name} has no field ${name}; fields: ${frame.fields.map((x) => x.name).join(', ')}`);
  }
  return f;
}

async function query(page: Page, target: Record<string, unknown>, hours = 24, dsName = DS_NAME) {
  return page.evaluate(
    ([name, t, h]) => (window as unknown as { authwatchHarness: Harness }).authwatchHarness.query(name, [{ refId: 'A', ...t }], h),
    [dsName, target, hours] as const
  );
}

/** A raw request from the page through Grafana's backendSrv (what any page script could send). */
async function proxyCall(page: Page, method: string, path: string, body?: unknown) {
  return page.evaluate(
    async ([m, p, b]) => {
      const res = await fetch(`/api/datasources/proxy/uid/authwatch/${p}`, {
        method: m,
        headers: b === undefined ? {} : { 'content-type': 'application/json' },
        body: b === undefined ? undefined : JSON.stringify(b),
        credentials: 'same-origin',
      });
      return { status: res.status, text: await res.text() };
    },
    [method, path, body] as const
  );
}

run('built data source in Chromium, through the route proxy, against a live collector', () => {
  let stack: Stack;
  let page: Page;
  let session: string;

  beforeAll(async () => {
    stack = await startStack();
    await seedCollector(stack.collector);
    ({ page, session } = await stack.openPage('Editor'));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('the page runs the package set it was built for (versions printed)', async () => {
    const react = await page.evaluate(() => (window as unknown as { authwatchHarness: Harness }).authwatchHarness.reactVersion());
    console.log(`${stack.packageSet.name}: page runs React ${react}; @grafana/data ${stack.versions['@grafana/data']}, @grafana/ui ${stack.versions['@grafana/ui']}, @grafana/runtime ${stack.versions['@grafana/runtime']}`);
    expect(react).toBe(stack.versions.react);
    expect(stack.versions.react.split('.')[0]).toBe(stack.packageSet.name === 'grafana13' ? '19' : '18');
    expect(stack.versions['@grafana/ui'].split('.')[0]).toBe(stack.packageSet.name === 'grafana13' ? '13' : '12');
  });

  test('the page provides every module the built plugins import (define([...])), and only modules Grafana shares', async () => {
    const { amdExternals } = await import('./plugins');
    const provided = await page.evaluate(() => (window as unknown as { authwatchHarness: Harness }).authwatchHarness.sharedNames());
    expect(provided.filter((name) => !GRAFANA_SHARED_NAMES.includes(name))).toEqual([]);
    for (const plugin of stack.server.plugins) {
      const wanted = amdExternals(plugin.pluginJsonPath.replace(/plugin\.json$/, 'module.js')).filter((d) => d !== 'module' && d !== 'exports');
      expect({ plugin: plugin.id, missing: wanted.filter((d) => !provided.includes(d)) }).toEqual({ plugin: plugin.id, missing: [] });
      const exported = await page.evaluate((m) => (window as unknown as { authwatchHarness: Harness }).authwatchHarness.loadPlugin(m), plugin.module.slice(1));
      expect(exported).toContain('plugin');
    }
  });

  test('events: a table frame with typed fields, the same rows the collector holds', async () => {
    const direct = (await stack.collector.request('GET', '/v1/events?limit=1000', 'read')).body as { events: Array<{ id: string; user: string }>; total: number };
    const result = await query(page, { queryType: 'events', format: 'table', limit: 1000 });
    expect(result.errors ?? []).toEqual([]);
    expect(result.series).toHaveLength(1);
    const frame = result.series[0] as Frame;
    expect(field(frame, 'time').type).toBe('time');
    expect(field(frame, 'user').type).toBe('string');
    expect(field(frame, 'id').values.slice().sort()).toEqual(direct.events.map((e) => e.id).sort());
    expect(new Set(field(frame, 'user').values)).toEqual(new Set(direct.events.map((e) => e.user)));
    expect(field(frame, 'country').values).toContain('GB');
  });

  test('events as logs: time, body and level fields', async () => {
    const result = await query(page, { queryType: 'events', format: 'logs', user: 'ivan.petrov' });
    const frame = result.series[0] as Frame;
    expect(field(frame, 'time').type).toBe('time');
    const bodies = field(frame, 'body').values as string[];
    expect(bodies.length).toBeGreaterThanOrEqual(7);
    expect(bodies.every((b) => b.includes('ivan.petrov'))).toBe(true);
    expect(field(frame, 'level').values).toContain('error');
  });

  test('sessions: active sessions with location and device columns', async () => {
    const direct = (await stack.collector.request('GET', '/v1/sessions?state=active&limit=1000', 'read')).body as { sessions: Array<{ id: string }> };
    const result = await query(page, { queryType: 'sessions', sessionState: 'active', limit: 1000 });
    expect(result.errors ?? []).toEqual([]);
    const frame = result.series[0] as Frame;
    expect(field(frame, 'started_at').type).toBe('time');
    expect(field(frame, 'id').values.slice().sort()).toEqual(direct.sessions.map((s) => s.id).sort());
    expect(field(frame, 'state').values.every((s) => s === 'active')).toBe(true);
    expect(field(frame, 'browser').values).toEqual(expect.arrayContaining(['Chrome', 'Safari', 'Firefox']));
    expect(field(frame, 'user').values).toEqual(expect.arrayContaining(['alice.martin', 'chen.wei']));
  });

  test('lockouts: the brute-forced account, the forgetful user and the spraying address', async () => {
    const direct = (await stack.collector.request('GET', '/v1/lockouts?state=locked', 'read')).body as { lockouts: Array<{ user: string | null; scope: string }> };
    const result = await query(page, { queryType: 'lockouts', lockoutState: 'locked' });
    const frame = result.series[0] as Frame;
    expect(field(frame, 'locked_at').type).toBe('time');
    expect(field(frame, 'user').values.length).toBe(direct.lockouts.length);
    expect(field(frame, 'user').values).toEqual(expect.arrayContaining(['ivan.petrov', 'julia.rossi']));
    expect(field(frame, 'scope').values).toContain('ip');
  });

  test('time series: failures and successes per interval add up to the events', async () => {
    const result = await query(page, { queryType: 'timeseries', groupBy: 'outcome' }, 6);
    expect(result.errors ?? []).toEqual([]);
    const byName = new Map<string, number>();
    for (const frame of result.series as Frame[]) {
      expect(field(frame, 'time').type).toBe('time');
      const counts = frame.fields.find((f) => f.type === 'number')!.values as number[];
      byName.set(frame.name ?? '', counts.reduce((a, b) => a + b, 0));
    }
    const failures = realisticEvents().filter((e) => e.outcome === 'failure').length;
    expect(byName.get('failure')).toBe(failures);
  });

  test('stats: numbers equal what the collector reports', async () => {
    const result = await query(page, { queryType: 'stats' }, 24);
    const frame = result.series[0] as Frame;
    const failures = realisticEvents().filter((e) => e.outcome === 'failure').length;
    expect(field(frame, 'failures').values[0]).toBe(failures);
    expect(field(frame, 'locked_accounts').values[0]).toBeGreaterThanOrEqual(2);
  });

  test('self view unset in the data source: the proxy sends "<no value>" as Grafana does, and self view stays off', async () => {
    const result = await query(page, { queryType: 'events', format: 'table', limit: 1000 });
    const users = new Set((result.series[0] as Frame).fields.find((f) => f.name === 'user')!.values);
    expect(users.size).toBeGreaterThan(5);
    const last = stack.server.proxyLog.filter((e) => e.path.startsWith('/read/events')).pop()!;
    expect(last.upstreamHeaders).toEqual({ Authorization: 'Bearer <readKey>', 'X-Authwatch-Self-View': '<no value>' });
  });

  test("a read key the collector rejects: its 401 reaches the browser as Grafana's 400, and the query says the key was rejected", async () => {
    const result = await query(page, { queryType: 'events' }, 24, DS_WRONG_KEY_NAME);
    expect(result.errors?.[0]?.message).toMatch(/collector rejected the API key/);
    const last = stack.server.proxyLog.filter((e) => e.path.startsWith('/read/events')).pop()!;
    expect(last.status).toBe(400);
  });

  test.each(['Viewer', 'Editor'] as const)('a %s calling PUT admin/policy through the route proxy is refused; the policy stays', async (role) => {
    const other = (await stack.openPage(role, `${role.toLowerCase()}-policy`)).page;
    try {
      const before = await stack.collector.request('GET', '/v1/policy', 'read');
      const logged = stack.server.proxyLog.length;
      const answer = await proxyCall(other, 'PUT', 'admin/policy', { max_failed_attempts: 1000 });
      // No route matches PUT admin/…; the data source has no URL of its own: Grafana answers 502.
      expect(answer.status).toBe(502);
      const entry = stack.server.proxyLog.slice(logged).find((e) => e.method === 'PUT');
      expect(entry).toMatchObject({ path: '/admin/policy', status: 502 });
      expect(entry?.upstream).toBeUndefined();
      expect((await stack.collector.request('GET', '/v1/policy', 'read')).body).toEqual(before.body);
    } finally {
      await other.close();
      await stack.activate(session);
    }
  });

  test('every query went through the read route with the key injected server-side; the key never reached the page', () => {
    const proxied = stack.server.proxyLog.filter((e) => e.path.startsWith('/read/') && e.status !== 400);
    expect(proxied.length).toBeGreaterThanOrEqual(6);
    expect(proxied.every((e) => e.status === 200 && e.route === 'GET read/' && e.upstream?.startsWith(stack.collector.url + '/v1/'))).toBe(true);
    expect(stack.requests.some((r) => r.url.includes('/api/datasources/proxy/uid/authwatch/read/'))).toBe(true);
    expect(stack.requests.some((r) => r.url.startsWith(stack.collector.url))).toBe(false);
    expect(stack.leaks).toEqual([]);
    expect(stack.pageErrors).toEqual([]);
  });
});
