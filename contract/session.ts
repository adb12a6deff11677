/**
 * A browser's sign-in, as the server and the web UI both see it: what `GET /api/session` answers and the header
 * that carries the session's CSRF token on every state-changing request a session cookie authenticates.
 */
import type { AuthMethod, TeamRole } from './identity';

/** Sent by the web UI with each POST/PUT/PATCH/DELETE; a session-authenticated request without it is refused (403 `csrf_failed`). */
export const CSRF_HEADER = 'x-csrf-token';

/** Where the browser goes to sign in (a redirect to the provider) and comes back to. */
export const AUTH_PATHS = { login: '/auth/login', callback: '/auth/callback', logout: '/auth/logout' } as const;

/** `GET /api/session`: how this server signs people in, and who the caller is (nothing when no credential). */
export interface SessionInfo {
  /** `oidc`: sign in at the provider (AUTH_PATHS.login); `token`: API_TOKENS only; `open`: no credential needed. */
  signIn: 'oidc' | 'token' | 'open';
  /** The caller, when a credential was presented and accepted. */
  user?: { id: string; email: string | null; name: string | null; roles: TeamRole[]; method: AuthMethod };
  /** The session's CSRF token, for CSRF_HEADER (only when the caller is a session). */
  csrfToken?: string;
  /** When the session ends at the latest (ISO). */
  expiresAt?: string;
}
