/**
 * A span around one model or tool call (a child of the activity's span while tracing is on; a no-op
 * otherwise). `fn` adds what it learns (tokens, outcome); a throw marks the span failed.
 */
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { tracer } from '../shared/tracing';

export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setAttribute('longhaul.outcome', 'error');
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
