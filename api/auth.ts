/**
 * Who is calling. Every credential ends as a Principal (contract/identity.ts): a bearer token goes to the first
 * check that claims its shape (an API key, a provider's JWT) and otherwise to the static API_TOKENS list; a browser
 * without a bearer is asked for its session. With no credential configured at all (no API_TOKENS, no sign-in) the
 * API is open to one implicit user, and the server refuses to bind anything but loopback (see server.ts).
 *
 * Roles come from the store (team_members) for every credential that does not carry its own, so a static token,
 * an API key and a socket ticket act with what their user holds.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { AuthMethod, Principal, Scope } from '../contract/identity';
import type { Store } from '../shared/store';
import type { TicketHolder } from '../shared/store/ws-tickets';
import { ApiError } from './errors';

export const LOCAL_USER = 'local';

/** One kind of bearer credential other than the static list: API keys (`lh_…`), a provider's JWTs. */
export interface BearerCheck {
  /** Whether a token of this shape is this check's to decide; the first check that accepts it decides. */
  accepts(token: string): boolean;
  /** The caller the token proves, or an ApiError (401 with a stable code) saying why it proves nothing. */
  principal(token: string): Promise<Principal>;
}

/** A browser's server-side session, found from the request's cookie. */
export interface SessionCheck {
  /** The session's caller; undefined when the request carries no session cookie; an ApiError when it carries a bad one. */
  principal(req: http.IncomingMessage): Promise<Principal | undefined>;
}

export interface Authenticator {
  /** True when a credential is required (API_TOKENS set, or sign-in configured). */
  readonly required: boolean;
  /**
   * The caller of an HTTP request or a socket's upgrade, or undefined when it presented nothing and a credential
   * is required. A credential presented and refused throws its ApiError.
   */
  identify(req: http.IncomingMessage): Promise<Principal | undefined>;
  /** A user known by other means (a mapped Slack user): their stored roles. */
  principalOf(user: string, method: AuthMethod, scopes?: readonly Scope[] | 'all'): Promise<Principal>;
  /**
   * The holder of a redeemed socket ticket, acting as the credential that asked: a key's ticket as the key (its
   * scopes, and it ends with the key), a session's as the session, a JWT's until the token's expiry.
   */
  ticketPrincipal(holder: TicketHolder): Promise<Principal>;
}

export interface AuthenticatorOptions {
  /** API_TOKENS: token → user. */
  tokens?: Map<string, string>;
  /** Checked in order before the static tokens. */
  bearers?: BearerCheck[];
  session?: SessionCheck;
  /** Whether sign-in is configured, which makes a credential required even without API_TOKENS. */
  signInRequired?: boolean;
  roles: Pick<Store['teamMembers'], 'rolesOf'>;
}

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const entries = [...(opts.tokens ?? new Map<string, string>()).entries()].map(([token, user]) => ({ digest: sha256(token), user }));
  const required = entries.length > 0 || opts.signInRequired === true;
  const bearers = opts.bearers ?? [];
  const principalOf = async (user: string, method: AuthMethod, scopes: readonly Scope[] | 'all' = 'all'): Promise<Principal> => ({
    user,
    roles: await opts.roles.rolesOf(user),
    scopes,
    method,
  });

  function staticUser(token: string): string | undefined {
    const digest = sha256(token);
    // Compare digests in constant time so response timing says nothing about valid tokens.
    let found: string | undefined;
    for (const e of entries) if (crypto.timingSafeEqual(e.digest, digest)) found = e.user;
    return found;
  }

  return {
    required,
    principalOf,
    async ticketPrincipal(holder) {
      if (holder.keyId !== undefined) return { ...(await principalOf(holder.user, 'key', holder.scopes)), keyId: holder.keyId };
      if (holder.sessionId !== undefined) return { ...(await principalOf(holder.user, 'session', holder.scopes)), sessionId: holder.sessionId };
      const principal = await principalOf(holder.user, 'token', holder.scopes);
      return holder.expiresAt === undefined ? principal : { ...principal, expiresAt: holder.expiresAt };
    },
    async identify(req) {
      const token = bearerToken(req.headers.authorization);
      if (token) {
        const check = bearers.find((b) => b.accepts(token));
        if (check) return check.principal(token);
        if (entries.length > 0) {
          const user = staticUser(token);
          if (!user) throw new ApiError(401, 'unauthorized', 'invalid token');
          return principalOf(user, 'token');
        }
        // An open server ignores a token it has no list for, as it always has.
        if (required) throw new ApiError(401, 'unauthorized', 'invalid token');
      }
      const session = await opts.session?.principal(req);
      if (session) return session;
      return required ? undefined : principalOf(LOCAL_USER, 'open');
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
    /** The caller's user id (principal.user), set with principal by requireUser. */
    user?: string;
    principal?: Principal;
  }
}

function refuse(res: Parameters<RequestHandler>[1], err: ApiError): ApiError {
  res.setHeader('WWW-Authenticate', 'Bearer realm="longhaul"');
  return err;
}

export function requireUser(auth: Authenticator): RequestHandler {
  return (req, res, next) => {
    auth.identify(req).then(
      (principal) => {
        if (!principal) return next(refuse(res, new ApiError(401, 'unauthorized', 'missing bearer token')));
        req.principal = principal;
        req.user = principal.user;
        next();
      },
      (err: unknown) => next(err instanceof ApiError && err.status === 401 ? refuse(res, err) : err),
    );
  };
}

export function userOf(req: Request): string {
  if (!req.user) throw new ApiError(401, 'unauthorized', 'missing bearer token');
  return req.user;
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw new ApiError(401, 'unauthorized', 'missing bearer token');
  return req.principal;
}
