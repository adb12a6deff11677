/**
 * A server span per API request while tracing is on: continued from the caller's `traceparent`
 * when it sends one, named by route pattern (`POST /api/runs/`), and active while the request is
 * served — so the Temporal client's span (and through it the workflow's) is its child.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { currentTracing, tracer } from '../shared/tracing';
import { routePattern } from './route-pattern';

export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    if (!currentTracing().enabled) return next();
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);
    res.on('finish', () => {
      const route = routePattern(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (req.id !== undefined) span.setAttribute('longhaul.request_id', String(req.id));
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
