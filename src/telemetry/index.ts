// Metrics and traces of the worker and its clients (see docs/observability.md).
export { instrumentDatatureHttp, routeOf, stopHttpInstrumentation, UPLOAD_ROUTE } from './http-instrumentation';
export * as metricNames from './metric-names';
export { installWorkerRuntime, metricsTelemetryOptions, metricsUrl, parseMetricsAddress } from './runtime';
export {
  clientTracingInterceptors,
  startTracing,
  TRACING_WORKFLOW_MODULE,
  type Tracing,
  tracingFromEnv,
  tracingRequested,
  workerTracingOptions,
} from './tracing';

/** The workflow interceptors module deriving the pipeline metrics; bundled with the workflows. */
export const METRICS_WORKFLOW_MODULE = require.resolve('./workflow-interceptors');
