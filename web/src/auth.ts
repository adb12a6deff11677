/**
 * How this page proves who it is, two ways, as the server is set up:
 *   - an API token (API_TOKENS), kept in sessionStorage (this tab only, gone when it closes) and sent as a bearer
 *     header — never put in a URL;
 *   - a session cookie from signing in at the identity provider (OIDC), which the browser sends by itself; then every
 *     state-changing request carries the session's CSRF token (api.ts), learnt from GET /api/session.
 * Sockets use single-use tickets in both cases (live.ts).
 */
import { AUTH_PATHS, CSRF_HEADER, type SessionInfo } from '../../contract/session';

const KEY = 'longhaul.token';

type Listener = () => void;
const listeners = new Set<Listener>();
let needSignIn = false;
let session: SessionInfo | undefined;

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(value: string): void {
  sessionStorage.setItem(KEY, value.trim());
  needSignIn = false;
  for (const l of listeners) l();
}

/** Signs out: forgets the token, and ends the session at the server (and at the provider, when it offers that). */
export async function signOut(): Promise<void> {
  sessionStorage.removeItem(KEY);
  if (session?.csrfToken) {
    const res = await fetch(AUTH_PATHS.logout, { method: 'POST', headers: { [CSRF_HEADER]: session.csrfToken } });
    const { redirect } = (await res.json().catch(() => ({}))) as { redirect?: string };
    session = { signIn: session.signIn };
    location.assign(redirect ?? '/');
    return;
  }
  needSignIn = true;
  for (const l of listeners) l();
}

/** Called when the API says 401: the UI shows the sign-in page. */
export function signInRequired(): void {
  if (needSignIn) return;
  needSignIn = true;
  if (session) session = { signIn: session.signIn };
  for (const l of listeners) l();
}

export function mustSignIn(): boolean {
  return needSignIn;
}

/** What GET /api/session said: how this server signs people in and who this page is (undefined until loaded). */
export function currentSession(): SessionInfo | undefined {
  return session;
}

/** The session's CSRF token, for state-changing requests a session cookie authenticates. */
export function csrfToken(): string | undefined {
  return session?.csrfToken;
}

/** Where the sign-in button goes: the provider, and back to this page. */
export function providerSignInUrl(): string {
  return `${AUTH_PATHS.login}?returnTo=${encodeURIComponent(location.pathname + location.search)}`;
}

/** Asks the server who this page is. With sign-in configured and no session nor token, the sign-in page shows. */
export async function loadSession(): Promise<void> {
  const t = token();
  try {
    const res = await fetch('/api/session', { headers: t ? { authorization: `Bearer ${t}` } : {} });
    session = res.ok ? ((await res.json()) as SessionInfo) : undefined;
  } catch {
    session = undefined;
  }
  if (session && session.signIn !== 'open' && !session.user) needSignIn = true;
  for (const l of listeners) l();
}

export function onAuthChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
