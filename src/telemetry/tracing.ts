// Traces: on when the standard OTEL_* variables ask for them, otherwise nothing here is even loaded.
// One trace runs client start -> workflow -> activities -> each Datature HTTP call
// (@temporalio/interceptors-opentelemetry + the undici hooks of http-instrumentation.ts).
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { instrumentDatatureHttp } from './http-instrumentation';

/** The workflow interceptors module of the OTel package, bundled with the workflows when tracing is on. */
export const TRACING_WORKFLOW_MODULE = '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';

/**
 * True when the environment asks for traces: `OTEL_TRACES_EXPORTER` other than `none`, or an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); `OTEL_SDK_DISABLED=true` wins.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export interface Tracing {
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports what is buffered and stops (call before the process exits). */
  shutdown(): Promise<void>;
}

let current: Tracing | undefined;

/**
 * Registers the process-wide tracer provider (W3C propagation, async-context manager) once and starts the
 * Datature HTTP spans. Exporter: `spanProcessor` if given (tests: an in-memory exporter), else per
 * `OTEL_TRACES_EXPORTER` (`otlp`, the default, over OTLP/HTTP configured by the OTEL_EXPORTER_OTLP_* variables;
 * or `console`).
 */
export function startTracing(options: { serviceName: string; spanProcessor?: SpanProcessor }): Tracing {
  if (current) return current;
  const otel = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { Resource: ResourceClass, envDetectorSync } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const base = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');

  const resource = ResourceClass.default()
    .merge(new ResourceClass({ 'service.name': options.serviceName }))
    .merge(envDetectorSync.detect());
  let spanProcessor = options.spanProcessor;
  if (!spanProcessor) {
    if (process.env.OTEL_TRACES_EXPORTER?.trim() === 'console') {
      spanProcessor = new base.SimpleSpanProcessor(new base.ConsoleSpanExporter());
    } else {
      const { OTLPTraceExporter } =
        require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      spanProcessor = new base.BatchSpanProcessor(new OTLPTraceExporter());
    }
  }
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const tracer = otel.trace.getTracer('datature-batch');
  instrumentDatatureHttp({
    startSpan: (name, attributes) =>
      tracer.startSpan(name, { kind: otel.SpanKind.CLIENT, attributes }, otel.context.active()),
  });
  const tracing: Tracing = {
    spanProcessor,
    resource,
    async shutdown() {
      if (current !== tracing) return;
      current = undefined;
      await provider.shutdown();
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
    },
  };
  current = tracing;
  return tracing;
}

/** The running tracing, if `startTracing` was called (or the environment asks and it is started now). */
export function tracingFromEnv(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (current) return current;
  return tracingRequested(env) ? startTracing({ serviceName }) : undefined;
}

/** Client interceptors that open the trace and carry it into the workflow's headers (none when tracing is off). */
export function clientTracingInterceptors(tracing: Tracing | undefined = current): ClientInterceptors | undefined {
  if (!tracing) return undefined;
  const { OpenTelemetryWorkflowClientInterceptor } =
    require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** What `Worker.create` needs for traces: activity spans and the sink the workflow spans are exported through. */
export function workerTracingOptions(tracing: Tracing): Pick<WorkerOptions, 'sinks'> & {
  activityInterceptors: NonNullable<NonNullable<WorkerOptions['interceptors']>['activity']>;
} {
  const otelTemporal =
    require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
  return {
    activityInterceptors: [
      (ctx) => ({
        inbound: new otelTemporal.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otelTemporal.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: otelTemporal.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
