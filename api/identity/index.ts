/**
 * Sign-in, wired once: with OIDC_ISSUER set, the authenticator gets the provider's JWTs as bearer tokens and the
 * browser's session cookie, and the server the /auth routes. Without it, nothing here is used.
 */
import type express from 'express';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import type { BearerCheck, SessionCheck } from '../auth';
import { createJwtCheck } from './jwt-check';
import { OidcProvider } from './provider';
import { ProviderRoles } from './provider-roles';
import { SessionCookies, createSessionCheck } from './sessions';
import { signInRouter } from './sign-in-routes';

export interface SignIn {
  bearers: BearerCheck[];
  session: SessionCheck;
  cookies: SessionCookies;
  router: express.Router;
}

export function createSignIn(deps: { config: Config; store: Store; logger: Logger }): SignIn | undefined {
  const { config, store, logger } = deps;
  if (!config.oidc) return undefined;
  const provider = new OidcProvider(config.oidc);
  const roles = new ProviderRoles(store.teamMembers);
  const cookies = new SessionCookies(config.oidc.publicUrl);
  return {
    bearers: [createJwtCheck({ provider, roles, logger })],
    session: createSessionCheck({ store, cookies, config }),
    cookies,
    router: signInRouter({ config, store, provider, roles, cookies, logger }),
  };
}

export { requireCsrf } from './sessions';
export { sessionInfoHandler } from './sign-in-routes';
