/**
 * What the client throws: the API's own `{ error: { code, message } }` as a typed error, so callers
 * branch on `err.code` (an ApiErrorCode) rather than on message text. `network_error` means the
 * server was not reached at all.
 */
import type { ApiErrorCode } from '../contract/errors';

export type ClientErrorCode = ApiErrorCode | 'network_error' | 'unexpected_response';

export class LonghaulError extends Error {
  constructor(
    /** HTTP status; 0 when the server was not reached. */
    readonly status: number,
    readonly code: ClientErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'LonghaulError';
  }
}

/** Worth retrying: the server was not reached, or said it could not do it right now. */
export function isTransient(err: unknown): boolean {
  return err instanceof LonghaulError && (err.status === 0 || err.status >= 500 || err.code === 'network_error');
}
