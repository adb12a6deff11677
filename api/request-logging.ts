/**
 * Every request gets an id — the caller's `X-Request-Id` when it is a sane token, a fresh one
 * otherwise — echoed in the response, carried by its log line (pino-http: method, path, status,
 * time) and by any error logged while serving it; and its duration goes to the request histogram
 * by route pattern (never the raw path: ids would make every run a series of its own).
 */
import crypto from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../shared/logger';
import type { ApiMetrics } from './api-metrics';
import { routePattern } from './route-pattern';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and the web UI's files: only at debug level, or they drown the requests that matter. */
const QUIET = /^\/(healthz|readyz|assets\/|favicon)/;

export function requestLogging(logger: Logger, metrics: ApiMetrics): RequestHandler[] {
  const http = pinoHttp({
    logger: logger.child({ component: 'http' }),
    genReqId(req, res) {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && SANE_ID.test(given) ? given : crypto.randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel(req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return QUIET.test(req.url ?? '') ? 'debug' : 'info';
    },
    // Only what is safe and useful: no headers (tokens), no bodies.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
  });
  const timing: RequestHandler = (req, res, next) => {
    const end = metrics.requestDuration.startTimer();
    res.on('finish', () => {
      const route = routePattern(req) ?? 'other';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
  return [http, timing];
}
