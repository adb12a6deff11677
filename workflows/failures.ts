/** Turns whatever stopped a run into a short, stable `{ code, message }` for its status. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { runErrorCodeOf } from '../contract/errors';
import type { RunError } from '../contract/run';

/**
 * A failure type Longhaul raised keeps its own code; anything else (an error a library threw, which
 * Temporal carries as a failure typed with the error's name) is `internal`, with its message.
 */
export function describeFailure(err: unknown): RunError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { code: runErrorCodeOf(cause.type), message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    return { code: 'activity_timeout', message: `a step timed out (${cause.timeoutType ?? 'timeout'}) after all retries` };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code: 'internal', message };
}

/** The failure type of an activity error, if it carries one. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** The first detail of an activity error's ApplicationFailure (what its type says it carries), if any. */
export function failureDetail(err: unknown): unknown {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
}

/**
 * An activity given up after all its attempts, the last lost with its worker: no heartbeat within the heartbeat
 * timeout (the process died, or its event loop stopped). Not a call that was merely slow: that is a start-to-close timeout.
 */
export function workerLostOnLastAttempt(err: unknown): boolean {
  return err instanceof ActivityFailure && err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'HEARTBEAT';
}
