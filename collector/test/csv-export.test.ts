// CSV export: 100k events stream out with flat memory, with a header row, attachment disposition
// and formula cells neutralised.
import { ev, startServer, type TestServer } from './helpers/server';

let s: TestServer;
const N = 100_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 '.repeat(6);

beforeAll(async () => {
  s = await startServer();
  const base = Date.parse('2026-02-01T00:00:00Z');
  const per = 4000;
  for (let off = 0; off < N; off += per) {
    const batch = Array.from({ length: per }, (_, i) => ({
      id: `csv-${off + i}`,
      time: base + off + i,
      type: 'access',
      outcome: 'success',
      reason: 'api_request',
      user: `user${(off + i) % 977}`,
      ip: '198.51.100.20',
      user_agent: UA,
      service: 'portal',
    }));
    const r = await s.post('/v1/events', batch);
    expect(r.status).toBe(202);
  }
}, 300_000);
afterAll(async () => {
  await s.stop(true);
});

test('100k events stream out without holding them in memory', async () => {
  // The sinks get the last batches' events after their 202, a slice per turn: not the export's memory.
  await s.collector.pipeline.flush();
  global.gc?.();
  const start = process.memoryUsage();
  let peakHeap = start.heapUsed;
  let peakRss = start.rss;
  const res = await fetch(`${s.url}/v1/events.csv?type=access`, { headers: { authorization: 'Bearer read-secret-1' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="authwatch-events-.*\.csv"$/);
  const reader = res.body!.getReader();
  let bytes = 0;
  let lines = 0;
  let first = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    for (let i = 0; i < value.length; i++) if (value[i] === 10) lines++;
    if (first.length < 4096) first += Buffer.from(value.subarray(0, 4096)).toString('utf8');
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1) + ' MB';
  console.log(
    `CSV export: ${lines - 1} rows, ${mb(bytes)}; heap growth peak ${mb(peakHeap - start.heapUsed)}, RSS growth peak ${mb(peakRss - start.rss)} (server and client share this process)`,
  );
  expect(lines).toBe(N + 1);
  expect(first.split('\r\n')[0]).toBe(
    'time,id,type,outcome,reason,user,user_id,email,session_id,ip,country,city,latitude,longitude,asn,isp,user_agent,browser,browser_version,os,os_version,device_type,device,app_version,service,entry,actor,received_at,attributes',
  );
  expect(bytes).toBeGreaterThan(60 * 1024 * 1024);
  // Holding the rows would need at least the CSV's size; streaming stays far below it.
  expect(peakHeap - start.heapUsed).toBeLessThan(bytes / 4);
  // RSS also counts V8 semispace growth and SQLite page cache: looser, but still below the CSV.
  expect(peakRss - start.rss).toBeLessThan(bytes * 0.75);
}, 300_000);

test('cells that start with = + - @ tab or CR are neutralised; quotes and commas are escaped', async () => {
  await s.post('/v1/events', [
    ev({ id: 'f1', user: '=HYPERLINK("http://evil.example","x")', service: '+cmd|calc', device: '-2+3', entry: '@SUM(A1)', user_agent: '\tTabbed', app_version: '\rCR' }),
    ev({ id: 'f2', user: 'plain, "quoted"', attributes: { note: '=1+1' } }),
  ]);
  const csv = (await s.req('GET', '/v1/events.csv?q=hyperlink', { key: 'read' })).text;
  const row = csv.split('\r\n')[1];
  expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
  expect(row).toContain("'+cmd|calc");
  expect(row).toContain("'-2+3");
  expect(row).toContain("'@SUM(A1)");
  expect(row).toContain("'\tTabbed");
  expect(csv).toContain(`"'\rCR"`);
  const csv2 = (await s.req('GET', '/v1/events.csv?user=plain%2C%20%22quoted%22', { key: 'read' })).text;
  // A comma inside a value would split the filter; the q filter finds it instead.
  const csv3 = (await s.req('GET', '/v1/events.csv?q=quoted', { key: 'read' })).text;
  expect(csv2.split('\r\n').length).toBeGreaterThanOrEqual(2);
  expect(csv3).toContain('"plain, ""quoted"""');
  expect(csv3).toContain('"{""note"":""=1+1""}"');
});

test('limit caps the rows; filters apply', async () => {
  const csv = (await s.req('GET', '/v1/events.csv?type=access&limit=10', { key: 'read' })).text;
  expect(csv.trimEnd().split('\r\n')).toHaveLength(11);
  const one = (await s.req('GET', '/v1/events.csv?user=user5&type=access', { key: 'read' })).text;
  expect(one.trimEnd().split('\r\n')).toHaveLength(1 + Math.ceil((N - 5) / 977));
});
