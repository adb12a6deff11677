/**
 * jose and openid-client are ES modules only; this CommonJS build reaches them through `import()`, once each.
 * Types come with `resolution-mode: import`, so nothing but these two functions loads them.
 */
import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };
import type * as OpenIdClientModule from 'openid-client' with { 'resolution-mode': 'import' };

type Jose = typeof JoseModule;
type OpenIdClient = typeof OpenIdClientModule;

let jose: Promise<Jose> | undefined;
let openIdClient: Promise<OpenIdClient> | undefined;

export function loadJose(): Promise<Jose> {
  jose ??= import('jose');
  return jose;
}

export function loadOpenIdClient(): Promise<OpenIdClient> {
  openIdClient ??= import('openid-client');
  return openIdClient;
}
