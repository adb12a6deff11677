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
import type { ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, NodeTracerProvider, NoopSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Config } from './config';
import { redactText } from './redact';

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
  const spanProcessor = new BatchSpanProcessor(new RedactingExporter(new OTLPTraceExporter()));
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

/**
 * Every exported span (Longhaul's, the Temporal interceptors', workflow spans from the sink) with
 * its name, status message, string attributes and events' attributes redacted: an exception
 * recorded by any library may carry a URL's credentials or a configured secret.
 */
export class RedactingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans.map(redactSpan), resultCallback);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function redactAttributes<T extends Record<string, unknown> | undefined>(attributes: T): T {
  if (!attributes) return attributes;
  return Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [k, typeof v === 'string' ? redactText(v) : Array.isArray(v) ? v.map((x: unknown) => (typeof x === 'string' ? redactText(x) : x)) : v]),
  ) as T;
}

/** A view of the span with redacted texts; everything else (its context, times, resource) read from the span itself. */
export function redactSpan(span: ReadableSpan): ReadableSpan {
  const view = Object.create(span) as ReadableSpan;
  Object.defineProperties(view, {
    name: { value: redactText(span.name) },
    status: { value: span.status.message ? { ...span.status, message: redactText(span.status.message) } : span.status },
    attributes: { value: redactAttributes(span.attributes) },
    events: { value: span.events.map((e) => ({ ...e, attributes: redactAttributes(e.attributes) })) },
  });
  return view;
}
