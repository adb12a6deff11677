/**
 * Turns provider errors into Temporal failures with a stable `type`: requests that cannot succeed
 * (bad request, auth, permission, unknown model) fail at once; overload, rate limits and server
 * errors are retried by Temporal, waiting as long as the provider asks through `retry-after`.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contract/failures';
import type { ModelCallError } from '../../contract/events';
import type { ModelCallErrorCode } from '../../contract/errors';
import { redactText } from '../../shared/redact';


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

/** Short, stable words for why a call failed, as `llm.retry` and the status detail report them. */
const CODE_OF_STATUS: Record<number, ModelCallErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  402: 'payment_required',
  403: 'permission_denied',
  404: 'not_found',
  408: 'timeout',
  409: 'conflict',
  413: 'request_too_large',
  429: 'rate_limited',
  499: 'client_closed',
  529: 'overloaded',
};

/** Why a model call failed: a stable code, the provider's words, and the HTTP status when there was one. */
export function describeModelError(err: unknown, host?: string): ModelCallError {
  if (err instanceof Anthropic.APIConnectionError) {
    const timeout = err instanceof Anthropic.APIConnectionTimeoutError;
    return { code: timeout ? 'connection_timeout' : 'connection_error', message: redactText(`${host ? `${host}: ` : ''}${err.message}`) };
  }
  if (err instanceof Anthropic.APIError) {
    const status = err.status;
    const code = status === undefined ? (err.type === 'overloaded_error' ? 'overloaded' : 'stream_error') : (CODE_OF_STATUS[status] ?? (status >= 500 ? 'server_error' : 'error'));
    return { code, message: redactText(err.apiMessage ?? err.message), ...(status !== undefined && { status }) };
  }
  return { code: 'error', message: redactText(err instanceof Error ? err.message : String(err)) };
}

/** `529 overloaded`, `connection_error`: what the status detail says about a failed attempt. */
export function shortReason(e: ModelCallError): string {
  return `${e.status !== undefined ? `${e.status} ` : ''}${e.code.replace(/_/g, ' ')}`;
}

/** Headers of a provider error response (rate-limit figures, retry-after), when it had any. */
export function errorHeaders(err: unknown): Headers | undefined {
  return err instanceof Anthropic.APIError ? err.headers : undefined;
}

/** `host`: where the call went, so a connection failure says where it could not connect. */
export function classifyModelError(err: unknown, host?: string): ApplicationFailure {
  if (err instanceof Anthropic.APIConnectionError) {
    return ApplicationFailure.retryable(`model connection${host ? ` to ${host}` : ''} failed: ${redactText(err.message)}`, FailureType.ModelConnectionError);
  }
  if (err instanceof Anthropic.APIError) {
    const status = err.status;
    const detail = redactText(err.apiMessage ?? err.message);
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
  const message = redactText(err instanceof Error ? err.message : String(err));
  return ApplicationFailure.retryable(`model call failed: ${message}`, FailureType.ModelConnectionError);
}
