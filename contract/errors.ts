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
  'schedule_too_frequent',
  // 401 / 403: who is asking
  'unauthorized',
  'forbidden',
  'origin_not_allowed',
  'host_not_allowed',
  'invalid_signature',
  'stale_request',
  // 404
  'not_found',
  'run_not_found',
  'approval_not_found',
  'schedule_not_found',
  // 409: the run or request is not in a state for this
  'run_not_active',
  'run_not_ended',
  'run_not_continuable',
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
  // 5xx
  'temporal_unavailable',
  'internal',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** The body of every non-2xx answer. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; details?: unknown };
}

/** Errors a live connection (WebSocket or SSE) sends as `{ type: 'error' }` messages. */
export const LIVE_ERROR_CODES = ['invalid_message', 'run_not_found', 'subscription_failed', 'too_many_subscriptions', 'internal'] as const;
export type LiveErrorCode = (typeof LIVE_ERROR_CODES)[number];
