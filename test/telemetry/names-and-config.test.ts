// The pure parts: route templates keep ids and queries out of labels and span names; config parsing.
import { metricsUrl, parseMetricsAddress, routeOf, tracingRequested, UPLOAD_ROUTE } from '../../src/telemetry';

test('routes are templates: ids, names and queries never reach a label', () => {
  expect(routeOf('GET', '/projects/proj_0001/batch/jobs/batchjob_42?secret=x')).toBe(
    'GET /projects/:id/batch/jobs/:id',
  );
  expect(routeOf('GET', '/projects/proj_0001/batch/jobs/batchjob_42/logs?beforeTime=1')).toBe(
    'GET /projects/:id/batch/jobs/:id/logs',
  );
  expect(routeOf('POST', '/projects/proj_1/batch/webhooks/webhook_9:test')).toBe(
    'POST /projects/:id/batch/webhooks/:id:test',
  );
  expect(routeOf('PATCH', '/projects/p/batch/webhooks/w/secret')).toBe('PATCH /projects/:id/batch/webhooks/:id/secret');
  expect(routeOf('GET', '/projects/p/batch/datasets')).toBe('GET /projects/:id/batch/datasets');
  // An unknown segment is an id, whatever it holds.
  expect(routeOf('GET', '/projects/p/batch/emulator-secret-key')).toBe('GET /projects/:id/batch/:id');
  expect(UPLOAD_ROUTE).not.toMatch(/\?/);
});

test('metrics address: a port or host:port; the scrape URL', () => {
  expect(parseMetricsAddress('9464')).toBe('0.0.0.0:9464');
  expect(parseMetricsAddress('127.0.0.1:9464')).toBe('127.0.0.1:9464');
  expect(() => parseMetricsAddress('nine')).toThrow(/<port> or <host>:<port>/);
  expect(() => parseMetricsAddress('70000')).toThrow();
  expect(metricsUrl('0.0.0.0:9464')).toBe('http://127.0.0.1:9464/metrics');
  expect(metricsUrl('10.0.0.5:9464')).toBe('http://10.0.0.5:9464/metrics');
});

test('traces are on only when the standard OTEL_* variables ask for them', () => {
  expect(tracingRequested({})).toBe(false);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
  expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
  expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
  expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
  expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
});
