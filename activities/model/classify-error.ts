/**
 * Turns provider errors into Temporal failures with a stable `type`: requests that cannot succeed
 * (bad request, auth, permission, unknown model) fail at once; overload, rate limits and server
 * errors are retried by Temporal, waiting as long as the provider asks through `retry-after`.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contract/failures';


/** Seconds or milliseconds the provider asked us to wait, from `retry-after-ms` / `retry-after`. */
export function retryAfterMs(headers: Headers | undefined, nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

const MAX_PROVIDER_DELAY_MS = 10 * 60_000;

export function classifyModelError(err: unknown): ApplicationFailure {
  if (err instanceof Anthropic.APIConnectionError) {
    return ApplicationFailure.retryable(`model connection failed: ${err.message}`, FailureType.ModelConnectionError);
  }
  if (err instanceof Anthropic.APIError) {
    const status = err.status;
    const detail = err.apiMessage ?? err.message;
    const nonRetryable = (type: FailureType, what: string) =>
      ApplicationFailure.create({ message: `${what} (HTTP ${status}): ${detail}`, type, nonRetryable: true });
    const retryable = (type: FailureType, what: string) => {
      const wait = retryAfterMs(err.headers);
      return ApplicationFailure.create({
        message: `${what}${status ? ` (HTTP ${status})` : ''}: ${detail}`,
        type,
        nonRetryable: false,
        nextRetryDelay: wait === undefined ? undefined : Math.min(wait, MAX_PROVIDER_DELAY_MS),
      });
    };
    switch (status) {
      case 400:
        return nonRetryable(FailureType.ModelBadRequest, 'the model rejected the request');
      case 401:
        return nonRetryable(FailureType.ModelAuthError, 'the model API key was refused');
      case 402:
        return nonRetryable(FailureType.ModelPaymentRequired, 'the model API account needs billing attention');
      case 403:
        return nonRetryable(FailureType.ModelPermissionDenied, 'the model API key may not use this model');
      case 404:
        return nonRetryable(FailureType.ModelNotFound, 'the model or endpoint does not exist');
      case 413:
        return nonRetryable(FailureType.ModelRequestTooLarge, 'the request is too large for the model');
      case 429:
        return retryable(FailureType.ModelRateLimited, 'the model API is rate limiting');
      case 529:
        return retryable(FailureType.ModelOverloaded, 'the model API is overloaded');
      case 408:
      case 409:
      case 499:
        return retryable(FailureType.ModelServerError, 'the model API request did not complete');
      default:
        if (status === undefined) {
          // An error event inside an otherwise successful stream (e.g. overloaded_error mid-message).
          const type = err.type === 'overloaded_error' ? FailureType.ModelOverloaded : FailureType.ModelServerError;
          return retryable(type, `the model stream failed${err.type ? ` with ${err.type}` : ''}`);
        }
        if (status >= 500) return retryable(FailureType.ModelServerError, 'the model API failed');
        return nonRetryable(FailureType.ModelBadRequest, 'the model API refused the request');
    }
  }
  if (err instanceof ApplicationFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.retryable(`model call failed: ${message}`, FailureType.ModelConnectionError);
}
