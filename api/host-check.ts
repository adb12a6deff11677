/**
 * DNS rebinding guard. Without API_TOKENS the API is open to anyone who can reach it, which is why
 * it binds to loopback only — but a web page on another site can point its own host name at
 * 127.0.0.1 and drive the local API from the browser. Such requests carry that other host name in
 * `Host`: in open mode only loopback names (and PUBLIC_URL's host) are accepted.
 */
import type { RequestHandler } from 'express';
import type { Config } from '../shared/config';
import { ApiError } from './errors';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** The host name of a `Host` header, lower-cased, without its port. */
export function hostName(host: string | undefined): string {
  const h = (host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

/** Whether a request with this `Host` may use the API. With tokens, every host may (tokens decide). */
export function hostAllowed(config: Pick<Config, 'api'> & Partial<Pick<Config, 'oidc'>>, host: string | undefined): boolean {
  // Sign-in configured: every request needs a credential, as with tokens.
  if (config.api.tokens || config.oidc) return true;
  const name = hostName(host);
  if (LOOPBACK_NAMES.includes(name) || name.endsWith('.localhost')) return true;
  return config.api.publicUrl !== undefined && hostName(new URL(config.api.publicUrl).host) === name;
}

export function requireAllowedHost(config: Pick<Config, 'api'> & Partial<Pick<Config, 'oidc'>>): RequestHandler {
  return (req, _res, next) => {
    if (hostAllowed(config, req.headers.host)) return next();
    next(new ApiError(403, 'host_not_allowed', 'without API_TOKENS this server answers only to loopback host names (and PUBLIC_URL)'));
  };
}
