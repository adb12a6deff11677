/**
 * Browser sessions: the cookie that carries one, the SessionCheck that turns it into a Principal, and the CSRF rule.
 *
 * The cookie holds a random secret; the database holds only its hash (shared/store/sessions.ts). It is HttpOnly,
 * SameSite=Lax, Secure (and `__Host-` named) when PUBLIC_URL is https, and new at each sign-in. Because a browser
 * sends it by itself, every state-changing request it authenticates must also carry the session's CSRF token in
 * CSRF_HEADER — a page of another site can make the browser send the cookie but cannot read the token. The token is
 * derived from the session's secret (HMAC), so it needs no storage and dies with the session.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { Principal } from '../../contract/identity';
import { CSRF_HEADER } from '../../contract/session';
import type { Config } from '../../shared/config';
import type { Store } from '../../shared/store';
import type { SessionCheck } from '../auth';
import { ApiError } from '../errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class SessionCookies {
  readonly name: string;
  readonly secure: boolean;

  constructor(publicUrl: string | undefined) {
    this.secure = publicUrl?.startsWith('https:') ?? false;
    // `__Host-`: the browser keeps it to this origin, path `/`, set over https only: no subdomain can plant one.
    this.name = this.secure ? '__Host-longhaul_session' : 'longhaul_session';
  }

  /** The session secret a request's cookies carry. */
  secretOf(req: http.IncomingMessage): string | undefined {
    return readCookie(req, this.name);
  }

  set(res: Response, secret: string, expiresAt: string): void {
    res.cookie(this.name, secret, { httpOnly: true, secure: this.secure, sameSite: 'lax', path: '/', expires: new Date(expiresAt) });
  }

  clear(res: Response): void {
    res.clearCookie(this.name, { httpOnly: true, secure: this.secure, sameSite: 'lax', path: '/' });
  }
}

/** One cookie's value from the Cookie header (the first of that name); undefined when absent. */
export function readCookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The CSRF token of a session: an HMAC of a fixed label under the session's secret. */
export function csrfTokenOf(secret: string): string {
  return crypto.createHmac('sha256', secret).update('longhaul csrf').digest('base64url');
}

/** Whether a presented CSRF token is the session's, compared in constant time. */
export function csrfMatches(secret: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const want = Buffer.from(csrfTokenOf(secret));
  const got = Buffer.from(presented);
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

export function createSessionCheck(deps: { store: Store; cookies: SessionCookies; config: Config }): SessionCheck {
  const { store, cookies, config } = deps;
  return {
    async principal(req): Promise<Principal | undefined> {
      const secret = cookies.secretOf(req);
      if (!secret) return undefined;
      const found = await store.sessions.use(secret, config.sessions.idleSec);
      if ('ended' in found) {
        if (found.ended === 'expired') throw new ApiError(401, 'session_expired', 'your session has ended; sign in again');
        throw new ApiError(401, 'unauthorized', 'this session is not valid; sign in again');
      }
      // The provider's roles were written at sign-in; an admin's grants and revocations since count at once.
      return { user: found.session.user, roles: await store.teamMembers.rolesOf(found.session.user), scopes: 'all', method: 'session', sessionId: found.session.id };
    },
  };
}

/**
 * Refuses (403 `csrf_failed`) a state-changing request authenticated by the session cookie that does not carry the
 * session's CSRF token. Bearer-authenticated requests pass: no browser attaches a bearer header by itself.
 */
export function requireCsrf(cookies: SessionCookies): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.principal?.method !== 'session') return next();
    const secret = cookies.secretOf(req);
    const header = req.headers[CSRF_HEADER];
    if (secret && csrfMatches(secret, typeof header === 'string' ? header : undefined)) return next();
    next(new ApiError(403, 'csrf_failed', `a request signed in by the session cookie must send the session's CSRF token (GET /api/session) in ${CSRF_HEADER}`));
  };
}
