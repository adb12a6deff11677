import { FailureType } from './failures';

/**
 * Every `error.code` the API answers with, defined once: the server can only throw these, and the
 * client's errors carry them as a type. Codes are stable: clients may branch on them.
 */
export const API_ERROR_CODES = [
  // 400: the request is not what the route takes
  'invalid_request',
  'invalid_json',
  'invalid_query',
  'invalid_idempotency_key',
  'limit_out_of_range',
  'unknown_model',
  'unknown_agent',
  'invalid_input',
  'schedule_too_frequent',
  'team_required',
  // 401 / 403: who is asking
  'unauthorized',
  'forbidden',
  'origin_not_allowed',
  'host_not_allowed',
  'invalid_signature',
  'stale_request',
  /** An API key that was revoked (401). */
  'key_revoked',
  /** An API key past its expiry (401). */
  'key_expired',
  /** The credential's scopes do not allow this (403): an API key without the scope, or asking for a key broader than itself. */
  'scope_missing',
  // sign-in and JWT bearer tokens (api/identity)
  'token_expired',
  'token_invalid',
  'session_expired',
  'csrf_failed',
  'sign_in_failed',
  // 404
  'not_found',
  'run_not_found',
  'approval_not_found',
  'schedule_not_found',
  'key_not_found',
  // 409: the run or request is not in a state for this
  'run_not_active',
  'run_not_ended',
  'run_not_continuable',
  'run_has_no_agent',
  'idempotency_key_reused',
  'approval_expired',
  'approval_already_decided',
  'no_pending_question',
  'question_expired',
  'question_already_answered',
  // 413 / 415 / 429
  'payload_too_large',
  'goal_too_large',
  'metadata_too_large',
  'input_too_large',
  'unsupported_media_type',
  'queue_full',
  'too_many_schedules',
  'too_many_keys',
  // 5xx
  'temporal_unavailable',
  /** The database cannot be reached right now (down, restarting): retry after Retry-After; nothing was changed by this request's failure. */
  'store_unavailable',
  'identity_provider_unavailable',
  'internal',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The body of every non-2xx answer. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; details?: unknown };
}

/**
 * Errors a live connection (WebSocket or SSE) sends as `{ type: 'error' }` messages. `run_access_ended`: the caller
 * may no longer see a run they follow (a role taken away while the connection was open); its feed has stopped.
 */
export const LIVE_ERROR_CODES = ['invalid_message', 'run_not_found', 'subscription_failed', 'too_many_subscriptions', 'internal', 'run_access_ended'] as const;
export type LiveErrorCode = (typeof LIVE_ERROR_CODES)[number];

/**
 * The close code of a socket whose credential ended (an API key revoked or expired, a session signed out, revoked or
 * expired, a JWT past its `exp`): reconnecting with the same credential is refused, so a client stops and asks for a
 * new one. The close reason says which, in words (never a secret).
 */
export const WS_CLOSE_CREDENTIAL_ENDED = 4401;

/**
 * The `code` of a failed run's `error` (RunError) when a failure type ended it: the type in
 * snake_case (`EffectInDoubt` → `effect_in_doubt`). Derived from FailureType, so a new failure
 * type is a new code without a second list to keep.
 */
type SnakeTail<S extends string> = S extends `${infer C}${infer Rest}` ? `${C extends Lowercase<C> ? C : `_${Lowercase<C>}`}${SnakeTail<Rest>}` : S;
type Snake<S extends string> = S extends `${infer First}${infer Rest}` ? `${Lowercase<First>}${SnakeTail<Rest>}` : S;
export type FailureCode = Snake<FailureType>;

/** `ModelAuthError` → `model_auth_error`: error codes are snake_case everywhere in the API. */
export function failureCode(type: FailureType): FailureCode {
  return type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() as FailureCode;
}

/**
 * The run loop's own endings, and `internal`: what any other error becomes. A thrown error's own
 * name (a library's `SqliteError`, a plain `Error`) is never a public code.
 */
export const RUN_ENDING_CODES = [
  /** A cap (maxSteps, maxCostUsd, maxDurationSec, loop) ended the run. */
  'limit_exceeded',
  /** No one approved going on past a cost checkpoint in time. */
  'approval_expired',
  /** A step timed out after all its retries. */
  'activity_timeout',
  /** Temporal refused the run's workflow for good (over one of its limits: the owner's name too long, say): it never started. */
  'start_refused',
  /** Anything else: an unexpected error, whatever threw it. */
  'internal',
] as const;

export type RunErrorCode = FailureCode | (typeof RUN_ENDING_CODES)[number];

/** Every code a run's `error` may carry. */
export const RUN_ERROR_CODES: readonly [RunErrorCode, ...RunErrorCode[]] = [...RUN_ENDING_CODES, ...Object.values(FailureType).map(failureCode)];

const FAILURE_TYPES: ReadonlySet<string> = new Set(Object.values(FailureType));
const isFailureType = (type: string): type is FailureType => FAILURE_TYPES.has(type);

/** The run error code of a failure's `type`: its own code when Longhaul raised it, `internal` for anything else. */
export function runErrorCodeOf(type: string | null | undefined): RunErrorCode {
  return type && isFailureType(type) ? failureCode(type) : 'internal';
}

/** A stored code, as the API may answer with it: codes recorded before codes were closed read as `internal`. */
export function knownRunErrorCode(code: string): RunErrorCode {
  return (RUN_ERROR_CODES as readonly string[]).includes(code) ? (code as RunErrorCode) : 'internal';
}

/**
 * Why one model call failed, as `llm.retry` reports it (ModelCallError): the HTTP status in words,
 * or how the connection failed. `interrupted`: the attempt ended without an answer (its worker
 * stopped or it timed out); `error`: any other error, whatever threw it.
 */
export const MODEL_CALL_ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'payment_required',
  'permission_denied',
  'not_found',
  'timeout',
  'conflict',
  'request_too_large',
  'rate_limited',
  'client_closed',
  'overloaded',
  'server_error',
  'stream_error',
  'connection_error',
  'connection_timeout',
  'interrupted',
  'error',
] as const;
export type ModelCallErrorCode = (typeof MODEL_CALL_ERROR_CODES)[number];
