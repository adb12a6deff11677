/**
 * Bearer-token auth from API_TOKENS (`token:user,…`). Each user sees only their own runs.
 * With API_TOKENS unset the API is open to one implicit user, and the server refuses to bind
 * anything but loopback (see server.ts).
 */
import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Store } from '../shared/store';
import { ApiError } from './errors';

export const LOCAL_USER = 'local';

export interface Authenticator {
  /** The user a presented token belongs to, or undefined. */
  userForToken(token: string): string | undefined;
  /** True when API_TOKENS is set. */
  readonly required: boolean;
}

export function createAuthenticator(tokens: Map<string, string> | undefined): Authenticator {
  const entries = [...(tokens ?? new Map()).entries()].map(([token, user]) => ({ digest: sha256(token), user }));
  return {
    required: entries.length > 0,
    userForToken(token) {
      if (entries.length === 0) return LOCAL_USER;
      const digest = sha256(token);
      // Compare digests in constant time so response timing says nothing about valid tokens.
      let found: string | undefined;
      for (const e of entries) if (crypto.timingSafeEqual(e.digest, digest)) found = e.user;
      return found;
    },
  };
}

function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s).digest();
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: string;
  }
}

export function requireUser(auth: Authenticator): RequestHandler {
  return (req, res, next) => {
    if (!auth.required) {
      req.user = LOCAL_USER;
      return next();
    }
    const token = bearerToken(req.headers.authorization);
    const user = token ? auth.userForToken(token) : undefined;
    if (!user) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="longhaul"');
      return next(new ApiError(401, 'unauthorized', token ? 'invalid token' : 'missing bearer token'));
    }
    req.user = user;
    next();
  };
}

export function userOf(req: Request): string {
  if (!req.user) throw new ApiError(401, 'unauthorized', 'missing bearer token');
  return req.user;
}

/**
 * For the few endpoints a browser cannot send headers to (EventSource): a bearer token as usual,
 * or a single-use ticket from POST /api/ws-ticket in `?ticket=`.
 */
export function userFromTicketOrToken(auth: Authenticator, store: Store): RequestHandler {
  const bearer = requireUser(auth);
  return (req, res, next) => {
    const ticket = typeof req.query.ticket === 'string' ? req.query.ticket : undefined;
    if (!ticket || bearerToken(req.headers.authorization)) return bearer(req, res, next);
    store.wsTickets.redeem(ticket).then(
      (user) => {
        if (!user) return next(new ApiError(401, 'unauthorized', 'ticket is unknown, used or expired'));
        req.user = user;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
