/**
 * OpenTelemetry tracing for a Longhaul process, on when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans
 * go over OTLP/HTTP to that endpoint (the exporter also honours the standard OTEL_EXPORTER_OTLP_*
 * and OTEL_BSP_* variables), named by OTEL_SERVICE_NAME. One trace follows a request: the API's
 * span, the Temporal client's start (the interceptor carries the context in the workflow's
 * headers), the workflow, its activities, and inside them model and tool calls. Off, everything
 * here is a no-op and nothing is exported. Process-wide, like OpenTelemetry's own global provider.
 */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Config } from './config';

export interface Tracing {
  enabled: boolean;
  /** Where workflow spans (exported by the worker through a sink) go. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  shutdown(): Promise<void>;
}

const off: Tracing = { enabled: false, spanProcessor: new NoopSpanProcessor(), resource: Resource.empty(), shutdown: async () => undefined };
let current: Tracing = off;

/** Starts tracing for this process (once; later calls return the first). */
export function startTracing(config: Pick<Config, 'tracing'>, defaultServiceName: string): Tracing {
  if (current.enabled || !config.tracing.otlpEndpoint) return current;
  const resource = Resource.default().merge(new Resource({ 'service.name': config.tracing.serviceName ?? defaultServiceName }));
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register(); // the global tracer, AsyncLocalStorage context and W3C trace-context propagation
  current = { enabled: true, spanProcessor, resource, shutdown: () => provider.shutdown() };
  return current;
}

export function currentTracing(): Tracing {
  return current;
}

/** Longhaul's own spans (HTTP requests, model and tool calls); no-ops while tracing is off. */
export function tracer(): Tracer {
  return trace.getTracer('longhaul');
}
