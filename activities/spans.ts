/**
 * A span around one model or tool call (a child of the activity's span while tracing is on; a no-op
 * otherwise). `fn` adds what it learns (tokens, outcome); a throw marks the span failed.
 */
import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { redactText } from '../shared/redact';
import { tracer } from '../shared/tracing';

export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      // An error's message and stack can carry a URL with credentials (a failed fetch): redacted first.
      span.setAttribute('longhaul.outcome', 'error');
      const message = redactText(err instanceof Error ? err.message : String(err));
      span.recordException(err instanceof Error ? { name: err.name, message, stack: err.stack && redactText(err.stack) } : message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw err;
    } finally {
      span.end();
    }
  });
}
