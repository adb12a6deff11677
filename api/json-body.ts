/**
 * JSON request bodies: Content-Type must say JSON (else 415), size is capped (else 413), and
 * malformed JSON is a 400 — all mapped in errors.ts — as is text holding a NUL (nul-refusal.ts).
 * A POST without a body gets `undefined`.
 */
import express, { type RequestHandler } from 'express';
import { ApiError } from './errors';
import { holdsNul, nulRefused } from './nul-refusal';

const JSON_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

export function jsonBody(maxBytes: number): RequestHandler {
  const parse = express.json({ limit: maxBytes, strict: true, type: () => true });
  return (req, res, next) => {
    if (!hasBody(req.headers)) {
      req.body = undefined;
      return next();
    }
    if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
      return next(new ApiError(415, 'unsupported_media_type', 'request bodies must be JSON (Content-Type: application/json)'));
    }
    parse(req, res, (err?: unknown) => {
      if (err) return next(err);
      // Called from the body stream's end, where nothing would catch a throw: whatever the scan meets goes to next.
      let refusal: unknown;
      try {
        refusal = holdsNul(req.body) ? nulRefused() : undefined;
      } catch (scanError) {
        refusal = scanError;
      }
      next(refusal);
    });
  };
}
