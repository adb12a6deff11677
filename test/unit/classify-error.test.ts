import Anthropic from '@anthropic-ai/sdk';
import { classifyModelError, retryAfterMs } from '../../activities/model/classify-error';

const apiError = (status: number | undefined, headers: Record<string, string> = {}, type = 'api_error') =>
  Anthropic.APIError.generate(status, { type: 'error', error: { type, message: `m${status}` } }, undefined, new Headers(headers));

describe('model error classification', () => {
  it.each([
    [400, 'ModelBadRequest', true],
    [401, 'ModelAuthError', true],
    [403, 'ModelPermissionDenied', true],
    [404, 'ModelNotFound', true],
    [402, 'ModelPaymentRequired', true],
    [413, 'ModelRequestTooLarge', true],
    [408, 'ModelServerError', false],
    [429, 'ModelRateLimited', false],
    [500, 'ModelServerError', false],
    [503, 'ModelServerError', false],
    [529, 'ModelOverloaded', false],
  ])('HTTP %i → %s (nonRetryable %s)', (status, type, nonRetryable) => {
    const failure = classifyModelError(apiError(status));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(nonRetryable);
    expect(failure.message).toContain(`m${status}`);
  });

  it('honours retry-after and retry-after-ms through nextRetryDelay', () => {
    expect(classifyModelError(apiError(429, { 'retry-after': '7' })).nextRetryDelay).toBe(7000);
    expect(classifyModelError(apiError(529, { 'retry-after-ms': '1500' })).nextRetryDelay).toBe(1500);
    expect(classifyModelError(apiError(429)).nextRetryDelay).toBeUndefined();
    expect(classifyModelError(apiError(429, { 'retry-after': '99999' })).nextRetryDelay).toBe(600_000);
  });

  it('reads HTTP-date retry-after values', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(30_000);
  });

  it('retries errors inside a stream and connection failures', () => {
    // How the SDK reports an `error` event in the middle of an SSE stream.
    const midStream = new Anthropic.APIError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, undefined, new Headers(), 'overloaded_error');
    expect(classifyModelError(midStream)).toMatchObject({ type: 'ModelOverloaded', nonRetryable: false });
    expect(classifyModelError(new Anthropic.APIConnectionError({ message: 'ECONNRESET' }))).toMatchObject({ type: 'ModelConnectionError', nonRetryable: false });
  });
});
