/** Turns whatever stopped a run into a short, stable `{ code, message }` for its status. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { RunError } from '../contract/run';

/** `ModelAuthError` → `model_auth_error`: error codes are snake_case everywhere in the API. */
export function toCode(type: string): string {
  return type
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

export function describeFailure(err: unknown): RunError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { code: toCode(cause.type ?? 'application_error'), message: cause.message };
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
