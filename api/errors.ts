/**
 * API errors: always `{ error: { code, message } }` with a stable snake_case code and the right
 * status. Bad input never becomes a 500.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ApiErrorCode } from '../contract/errors';
import type { Logger } from '../shared/logger';
import { isStoreOutage } from '../shared/store/outage';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What a 503 store_unavailable asks the caller to wait: a database restart takes seconds to tens of seconds. */
const STORE_RETRY_AFTER_SEC = 5;

export const notFound = (what: 'run' | 'approval' = 'run'): ApiError => new ApiError(404, `${what}_not_found`, `${what} not found`);

/** The owner already has `cap` runs waiting to start (MAX_QUEUED_RUNS_PER_USER): one more would pass it. */
export const queueFull = (queued: number, cap: number): ApiError =>
  new ApiError(429, 'queue_full', `you already have ${queued} runs waiting to start (the limit is ${cap}); try again when some have started`);

/** Body-parser failures carry a `type`; map each to a client error. */
function fromBodyParser(err: { type?: string; status?: number; message?: string; limit?: number }): ApiError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', `request body is larger than ${err.limit ?? 'the limit'} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', err.message ?? 'unsupported encoding');
    case 'request.aborted':
    case 'request.size.invalid':
      return new ApiError(400, 'invalid_request', err.message ?? 'request body was cut short');
    default:
      break;
  }
  // Other client errors from the HTTP stack (http-errors with `expose`): a corrupt gzip/br body...
  if (err.status !== undefined && err.status >= 400 && err.status < 500 && (err as { expose?: boolean }).expose) {
    // zlib (gzip, deflate) and brotli failures carry their own codes.
    if (/^(Z_|ERR_BROTLI|ERR__)/.test((err as { code?: string }).code ?? '')) {
      return new ApiError(400, 'invalid_request', 'the request body could not be decompressed: its Content-Encoding data is corrupt');
    }
    if (err.status === 413) return new ApiError(413, 'payload_too_large', err.message ?? 'request body too large');
    if (err.status === 415) return new ApiError(415, 'unsupported_media_type', err.message ?? 'unsupported media type');
    return new ApiError(400, 'invalid_request', err.message ?? 'bad request');
  }
  return undefined;
}

/** A path parameter that is not valid percent-encoding (`/api/runs/%ZZ`): Express cannot decode it. */
function fromUrlDecoding(err: unknown): ApiError | undefined {
  return err instanceof URIError ? new ApiError(400, 'invalid_request', 'the URL holds a malformed percent-escape') : undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiError = err instanceof ApiError ? err : (fromUrlDecoding(err) ?? fromBodyParser(err ?? {}));
    if (apiError) {
      res.status(apiError.status).json({
        error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined && { details: apiError.details }) },
      });
      return;
    }
    if (isStoreOutage(err)) {
      // The database is down or restarting: the caller waits and retries; runs wait for it by themselves.
      logger.warn({ err, method: req.method, path: req.path, requestId: req.id }, 'the database is unreachable');
      if (res.headersSent) return;
      res.setHeader('Retry-After', String(STORE_RETRY_AFTER_SEC));
      res.status(503).json({ error: { code: 'store_unavailable', message: 'the database cannot be reached right now; retry shortly' } });
      return;
    }
    logger.error({ err, method: req.method, path: req.path, requestId: req.id }, 'unhandled API error');
    if (res.headersSent) return;
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};
