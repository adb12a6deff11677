/**
 * Text holding the NUL character (U+0000) is refused at the edge with a 400. Postgres cannot store it in a text
 * column (SQLSTATE 22021), so a run id, a search or a goal holding one would otherwise reach the database and fail
 * there as a 500. No id, name or text Longhaul takes has a use for it.
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

const NUL = '\u0000';

export const nulRefused = (): ApiError => new ApiError(400, 'invalid_request', 'text may not hold the NUL character (U+0000)');

/** Whether any string in a parsed JSON value, or any of its keys, holds a NUL. Iterative: a body's depth is the client's. */
export function holdsNul(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (next.includes(NUL)) return true;
    } else if (Array.isArray(next)) {
      // One at a time: spreading an array of ~125,000 items (a 256 KB body holds 131,000) overflows the stack.
      for (const item of next) pending.push(item);
    } else if (next !== null && typeof next === 'object') {
      for (const [key, inner] of Object.entries(next)) {
        if (key.includes(NUL)) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/** A path or query string with a NUL, encoded (`%00`) or not, is refused before any route reads it. */
export const refuseNulInUrl: RequestHandler = (req, _res, next) => {
  next(/%00/i.test(req.originalUrl) || req.originalUrl.includes(NUL) ? nulRefused() : undefined);
};
