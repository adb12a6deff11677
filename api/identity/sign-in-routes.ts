/**
 * The browser's way in and out: `GET /auth/login` sends it to the provider (authorization code flow with PKCE, state
 * and nonce), `GET /auth/callback` turns the provider's answer into a server-side session, `POST /auth/logout` ends
 * it (and the provider's session too, through its `end_session_endpoint` when it has one). `GET /api/session` says
 * how this server signs people in and who the caller is.
 *
 * A sign-in under way is kept in the database (any replica may take the callback) and bound to the browser that
 * began it by a short-lived cookie holding its `state`: a callback in another browser (login CSRF) finds no match.
 */
import express, { type Request, type Response } from 'express';
import type { Principal } from '../../contract/identity';
import { AUTH_PATHS, CSRF_HEADER, type SessionInfo } from '../../contract/session';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import type { Authenticator } from '../auth';
import { ApiError } from '../errors';
import { loadOpenIdClient } from './esm';
import { issuedAtMs, rolesFromClaim, userFromClaims, verifiedEmail } from './provider-claims';
import type { ProviderRoles } from './provider-roles';
import type { OidcProvider } from './provider';
import { csrfMatches, csrfTokenOf, type SessionCookies } from './sessions';

/** How long a browser has to come back from the provider. */
const SIGN_IN_TTL_SEC = 600;
const SIGN_IN_COOKIE = 'longhaul_sign_in';

export interface SignInDeps {
  config: Config;
  store: Store;
  provider: OidcProvider;
  roles: ProviderRoles;
  cookies: SessionCookies;
  logger: Logger;
}

/** A path on this server to come back to after sign-in; anything else (another origin, `//host`) is `/`. */
export function localReturnPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2000) return '/';
  return value;
}

export function signInRouter(deps: SignInDeps): express.Router {
  const { store, provider, roles, cookies, logger } = deps;
  const s = provider.settings;
  const sessions = deps.config.sessions;
  const router = express.Router();
  const signInCookie = { httpOnly: true, secure: cookies.secure, sameSite: 'lax' as const, path: '/auth' };

  router.get(AUTH_PATHS.login, async (req, res) => {
    const client = await loadOpenIdClient();
    const config = await discovered(provider, logger);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    await store.sessions.beginSignIn(state, { codeVerifier, nonce, returnTo: localReturnPath(req.query.returnTo) }, SIGN_IN_TTL_SEC);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: s.redirectUri,
      scope: s.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    res.cookie(SIGN_IN_COOKIE, state, { ...signInCookie, maxAge: SIGN_IN_TTL_SEC * 1000 });
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, url.href);
  });

  router.get(AUTH_PATHS.callback, async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const bound = req.headers.cookie?.split(';').some((c) => c.trim() === `${SIGN_IN_COOKIE}=${encodeURIComponent(state)}`);
    res.clearCookie(SIGN_IN_COOKIE, signInCookie);
    if (typeof req.query.error === 'string') {
      throw new ApiError(401, 'sign_in_failed', `the identity provider refused the sign-in (${req.query.error.slice(0, 100)})`);
    }
    const pending = state && bound ? await store.sessions.finishSignIn(state) : undefined;
    if (!pending) throw new ApiError(401, 'sign_in_failed', 'this sign-in was not begun in this browser, was used already or took too long; sign in again');

    const client = await loadOpenIdClient();
    const config = await discovered(provider, logger);
    const current = new URL(s.redirectUri);
    current.search = new URL(req.originalUrl, 'http://callback').search;
    let claims: Record<string, unknown>;
    /** When the provider said what it says here: the ID token's `iat`, else now (userinfo is answered now). */
    let rolesIssuedAtMs = Date.now();
    try {
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() ?? {}) };
      rolesIssuedAtMs = issuedAtMs(claims) ?? rolesIssuedAtMs;
      // Many providers put profile, email and groups only in userinfo (an ID token carries what was asked for by name).
      if (config.serverMetadata().userinfo_endpoint && typeof claims.sub === 'string') {
        const idClaims = claims;
        const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub).catch((err: unknown) => {
          // An access token meant for another audience than userinfo: the ID token's claims are what we have.
          logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'userinfo refused the access token; using the ID token\'s claims');
          return {};
        });
        claims = { ...idClaims, ...userinfo };
      }
    } catch (err) {
      logger.warn({ err: { name: (err as Error).name, code: (err as { code?: string }).code, message: (err as Error).message } }, 'sign-in callback refused');
      throw new ApiError(401, 'sign_in_failed', 'the identity provider\'s answer could not be verified; sign in again');
    }
    const user = userFromClaims(claims, s.userClaim);
    if (!user) throw new ApiError(401, 'sign_in_failed', `the identity provider named no user (claim ${s.userClaim})`);

    await store.users.upsert({ id: user, email: verifiedEmail(claims) ?? null, name: typeof claims.name === 'string' ? claims.name : null });
    await roles.recordNow(user, rolesFromClaim(claims[s.rolesClaim]), rolesIssuedAtMs);
    // A new session id at every sign-in: a session id planted before sign-in never becomes a signed-in one.
    const previous = cookies.secretOf(req);
    if (previous) await store.sessions.revoke(previous);
    const session = await store.sessions.create(user, sessions.maxSec);
    cookies.set(res, session.secret, session.expiresAt);
    logger.info({ user }, 'signed in');
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, pending.returnTo);
  });

  router.post(AUTH_PATHS.logout, async (req, res) => {
    const secret = cookies.secretOf(req);
    if (secret) {
      const live = await store.sessions.use(secret, sessions.idleSec);
      if ('session' in live) {
        const header = req.headers[CSRF_HEADER];
        if (!csrfMatches(secret, typeof header === 'string' ? header : undefined)) {
          throw new ApiError(403, 'csrf_failed', `sign-out needs the session's CSRF token in ${CSRF_HEADER}`);
        }
        if (req.query.everywhere === 'true') await store.sessions.revokeAllOf(live.session.user);
        else await store.sessions.revoke(secret);
      }
    }
    cookies.clear(res);
    // RP-initiated logout: the provider ends its own session too, then sends the browser back here.
    let redirect = '/';
    try {
      const client = await loadOpenIdClient();
      const config = await provider.configuration();
      if (config.serverMetadata().end_session_endpoint) {
        redirect = client.buildEndSessionUrl(config, { client_id: s.clientId, post_logout_redirect_uri: new URL('/', s.publicUrl).href }).href;
      }
    } catch (err) {
      logger.warn({ err }, 'the identity provider could not be reached for sign-out; the session here has ended');
    }
    res.json({ redirect });
  });

  return router;
}

async function discovered(provider: OidcProvider, logger: Logger) {
  try {
    return await provider.configuration();
  } catch (err) {
    logger.warn({ err }, 'OpenID Provider discovery failed');
    throw new ApiError(503, 'identity_provider_unavailable', 'the identity provider could not be reached; try again shortly');
  }
}

/** GET /api/session: never a 401 — a refused or ended credential is answered as "nobody", with how to sign in. */
export function sessionInfoHandler(deps: { config: Config; store: Store; auth: Authenticator; cookies?: SessionCookies }) {
  const { config, store, auth, cookies } = deps;
  const signIn: SessionInfo['signIn'] = config.oidc ? 'oidc' : auth.required ? 'token' : 'open';
  return async (req: Request, res: Response) => {
    let principal: Principal | undefined;
    try {
      principal = await auth.identify(req);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      if (cookies?.secretOf(req)) cookies.clear(res);
    }
    res.setHeader('Cache-Control', 'no-store');
    const info: SessionInfo = { signIn };
    if (principal) {
      const known = await store.users.get(principal.user);
      info.user = { id: principal.user, email: known?.email ?? null, name: known?.name ?? null, roles: principal.roles, method: principal.method };
      const secret = principal.method === 'session' ? cookies?.secretOf(req) : undefined;
      if (secret) {
        info.csrfToken = csrfTokenOf(secret);
        const live = await store.sessions.use(secret, config.sessions.idleSec);
        if ('session' in live) info.expiresAt = live.session.expiresAt;
      }
    }
    res.json(info);
  };
}
