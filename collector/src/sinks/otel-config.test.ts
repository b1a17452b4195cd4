import { readOtelConfig } from './otel-config';

describe('readOtelConfig (standard OTEL_* variables)', () => {
  test('nothing set: service authwatch-collector, no OTLP export, no console', () => {
    const c = readOtelConfig({});
    expect(c).toMatchObject({ disabled: false, serviceName: 'authwatch-collector', warnings: [] });
    expect(c.logs).toMatchObject({ otlp: null, console: false });
    expect(c.logs.batch).toEqual({ scheduledDelayMillis: 1000, exportTimeoutMillis: 30000, maxQueueSize: 20480, maxExportBatchSize: 1024 });
    expect(c.metrics).toMatchObject({ otlp: null, console: false, intervalMillis: 60000, timeoutMillis: 30000 });
  });

  test('base endpoint gets /v1/logs and /v1/metrics; headers merge, signal-specific wins', () => {
    const c = readOtelConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=two%20words',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'b=logs',
    });
    expect(c.logs.otlp).toEqual({ url: 'http://otel:4318/v1/logs', headers: { a: '1', b: 'logs' } });
    expect(c.metrics.otlp).toEqual({ url: 'http://otel:4318/v1/metrics', headers: { a: '1', b: 'two words' } });
  });

  test('signal-specific endpoint is used as given', () => {
    const c = readOtelConfig({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.example/ingest' });
    expect(c.logs.otlp?.url).toBe('https://logs.example/ingest');
    expect(c.metrics.otlp).toBeNull();
  });

  test('service name: OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES service.name', () => {
    expect(readOtelConfig({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,team=sre' })).toMatchObject({
      serviceName: 'from-attrs',
      resourceAttributes: { 'service.name': 'from-attrs', team: 'sre' },
    });
    expect(readOtelConfig({ OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' }).serviceName).toBe('svc');
  });

  test('exporter lists: none, console, explicit otlp without endpoint uses the spec default', () => {
    const c = readOtelConfig({ OTEL_LOGS_EXPORTER: 'otlp,console', OTEL_METRICS_EXPORTER: 'none' });
    expect(c.logs).toMatchObject({ otlp: { url: 'http://localhost:4318/v1/logs', headers: {} }, console: true });
    expect(c.metrics.otlp).toBeNull();
    const d = readOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_LOGS_EXPORTER: 'none' });
    expect(d.logs.otlp).toBeNull();
    expect(d.metrics.otlp?.url).toBe('http://otel:4318/v1/metrics');
  });

  test('OTEL_BLRP_* tune the log batch processor', () => {
    expect(readOtelConfig({ OTEL_BLRP_SCHEDULE_DELAY: '200', OTEL_BLRP_MAX_QUEUE_SIZE: '50000' }).logs.batch).toMatchObject({
      scheduledDelayMillis: 200,
      maxQueueSize: 50000,
    });
  });

  test('OTEL_SDK_DISABLED and bad values give warnings, not crashes', () => {
    expect(readOtelConfig({ OTEL_SDK_DISABLED: 'TRUE' }).disabled).toBe(true);
    const c = readOtelConfig({
      OTEL_LOGS_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
      OTEL_METRIC_EXPORT_INTERVAL: '-5',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    expect(c.logs.otlp).toBeNull();
    expect(c.metrics.otlp).toBeNull();
    expect(c.metrics.intervalMillis).toBe(60000);
    expect(c.warnings.join('\n')).toMatch(/zipkin/);
    expect(c.warnings.join('\n')).toMatch(/not an http\(s\) URL/);
    expect(c.warnings.join('\n')).toMatch(/OTEL_METRIC_EXPORT_INTERVAL/);
    expect(c.warnings.join('\n')).toMatch(/http\/json/);
  });
});
