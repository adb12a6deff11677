/**
 * What the client throws: the API's own `{ error: { code, message } }` as a typed error, so callers
 * branch on `err.code` (an ApiErrorCode) rather than on message text. `network_error` means the
 * server was not reached at all; `timeout`: `runs.result` gave up waiting; `run_access_ended` (a live
 * error, status 403): the caller may no longer see a run they were watching (their roles changed), so
 * its watch ended. A live socket whose credential ended (closed 4401) reports `unauthorized` (401).
 */
import type { ApiErrorCode, LiveErrorCode, RunErrorCode } from '../contract/errors';
import type { RunError } from '../contract/run';

export type ClientErrorCode = ApiErrorCode | Extract<LiveErrorCode, 'run_access_ended'> | 'network_error' | 'unexpected_response' | 'timeout';

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

/**
 * What `runs.result` throws when the run did not complete: it failed (`code` is the run's error code,
 * e.g. `output_invalid`, `limit_exceeded`) or was cancelled (`code` is `cancelled`).
 */
export class RunFailedError extends Error {
  constructor(
    readonly runId: string,
    readonly status: 'failed' | 'cancelled',
    readonly code: RunErrorCode | 'cancelled',
    message: string,
    /** The run's error as the API gave it (null for a cancelled run). */
    readonly error: RunError | null,
  ) {
    super(message);
    this.name = 'RunFailedError';
  }
}
