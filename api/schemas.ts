/** Request validation: a request that does not fit its contract schema becomes a 400 naming every problem. */
import type { z } from 'zod';
import type { ApiErrorCode } from '../contract/errors';
import { ApiError } from './errors';

/** Parses or throws a 400 naming every problem. */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, code: Extract<ApiErrorCode, 'invalid_request' | 'invalid_query'>): z.output<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new ApiError(400, code, summary, issues);
}
