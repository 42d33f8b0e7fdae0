// The worker process's Temporal runtime with its Prometheus endpoint. One endpoint serves both the SDK's
// own worker metrics and the pipeline's: the pipeline's are emitted through the runtime's `metricMeter`
// (and the workflow's sink-backed `metricMeter`), so the SDK core's exporter serves them all.
import type { Logger } from '@temporalio/common';
import type { RuntimeOptions } from '@temporalio/worker';
import { instrumentDatatureHttp } from './http-instrumentation';
import { HISTOGRAM_BUCKETS } from './metric-names';

/** `9464` or `:9464` -> `0.0.0.0:9464`; `host:port` as is. Throws on anything else. */
export function parseMetricsAddress(value: string): string {
  const trimmed = value.trim();
  const match = /^(?:(.*):)?(\d{1,5})$/.exec(trimmed);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`metrics address must be <port> or <host>:<port> (got "${value}")`);
  }
  return `${match[1] || '0.0.0.0'}:${port}`;
}

/** The URL to scrape for a bind address (`0.0.0.0` is scraped on loopback locally). */
export function metricsUrl(bindAddress: string): string {
  const colon = bindAddress.lastIndexOf(':');
  const host = bindAddress.slice(0, colon);
  const shown = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' || host === '[::]' ? '[::1]' : host;
  return `http://${shown}:${bindAddress.slice(colon + 1)}/metrics`;
}

export function metricsTelemetryOptions(bindAddress: string): NonNullable<RuntimeOptions['telemetryOptions']> {
  return {
    metrics: {
      prometheus: {
        bindAddress,
        countersTotalSuffix: true,
        useSecondsForDurations: true,
        histogramBucketOverrides: HISTOGRAM_BUCKETS,
      },
    },
  };
}

/**
 * Installs the process's Temporal runtime (before any connection is made), with the Prometheus endpoint on
 * `metricsAddress` when given, and starts the Datature HTTP metrics. Returns the scrape URL.
 * Throws if a runtime was already installed or created.
 */
export function installWorkerRuntime(options: {
  metricsAddress?: string;
  logger?: Logger;
  shutdownSignals?: NodeJS.Signals[];
}): { metricsUrl?: string } {
  const { Runtime } = require('@temporalio/worker') as typeof import('@temporalio/worker');
  Runtime.install({
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    ...(options.metricsAddress ? { telemetryOptions: metricsTelemetryOptions(options.metricsAddress) } : {}),
  });
  if (!options.metricsAddress) return {};
  instrumentDatatureHttp({ meter: Runtime.instance().metricMeter });
  return { metricsUrl: metricsUrl(options.metricsAddress) };
}
