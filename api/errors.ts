/**
 * API errors: always `{ error: { code, message } }` with a stable snake_case code and the right
 * status. Bad input never becomes a 500.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ApiErrorCode } from '../contract/errors';
import type { Logger } from '../shared/logger';

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

export const notFound = (what: 'run' | 'approval' = 'run'): ApiError => new ApiError(404, `${what}_not_found`, `${what} not found`);

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
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiError = err instanceof ApiError ? err : fromBodyParser(err ?? {});
    if (apiError) {
      res.status(apiError.status).json({
        error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined && { details: apiError.details }) },
      });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled API error');
    if (res.headersSent) return;
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};
