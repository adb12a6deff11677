/**
 * The page's API client: the typed Longhaul client (client/), on this origin, with the signed-in
 * user's token, marking its decisions as coming from the web UI. A 401 shows the sign-in form.
 * Signed in at the identity provider, the browser's session cookie goes along by itself, and every
 * state-changing call adds the session's CSRF token.
 */
import { createLonghaulClient, type ClientOptions } from '../../client';
import { CSRF_HEADER } from '../../contract/session';
import { csrfToken, signInRequired, token } from './auth';

export { LonghaulError as ApiError } from '../../client';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** fetch with the session's CSRF token on every state-changing request. */
export const sessionFetch: typeof fetch = (input, init = {}) => {
  const csrf = csrfToken();
  if (!csrf || SAFE_METHODS.has((init.method ?? 'GET').toUpperCase())) return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set(CSRF_HEADER, csrf);
  return fetch(input, { ...init, headers });
};

const options: ClientOptions = {
  baseUrl: '',
  token: () => token() ?? undefined,
  headers: { 'X-Longhaul-Client': 'web' },
  fetch: sessionFetch,
  onUnauthorized: signInRequired,
};

export const client = createLonghaulClient(options);
