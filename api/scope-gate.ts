/**
 * What an API key's scopes allow, held on every /api route whatever the route's own checks: reading needs a scope
 * granting `read`, deciding an approval one granting `decide`, and anything else that changes state one granting
 * `steer`. A credential without scopes (a session, a JWT, a static token) passes untouched; its roles decide,
 * route by route. The /api/keys routes apply their own rule (a key cannot mint a broader key).
 *
 * A backstop while Access (api/access.ts) decides by user alone: once Access weighs the credential's scopes itself,
 * after it has found the caller may see the resource (so another team's ids stay 404), this gate should go.
 */
import type { RequestHandler } from 'express';
import { scopeAllows, type Permission } from '../contract/identity';
import { principalOf } from './auth';
import { ApiError } from './errors';

const DECIDE = /^\/runs\/[^/]+\/approvals\/[^/]+\/?$/;
const READ_ONLY_POSTS = new Set(['/ws-ticket', '/ws-ticket/']);
const OWN_RULES = /^\/keys(\/|$)/;

/** The permission a request under /api needs from the credential's scopes; undefined when the route decides. */
export function permissionFor(method: string, path: string): Permission | undefined {
  if (OWN_RULES.test(path)) return undefined;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  if (method === 'POST' && DECIDE.test(path)) return 'decide';
  if (method === 'POST' && READ_ONLY_POSTS.has(path)) return 'read';
  return 'steer';
}

export const requireScopes: RequestHandler = (req, _res, next) => {
  const p = principalOf(req);
  const needed = permissionFor(req.method, req.path);
  if (needed && !scopeAllows(p.scopes, needed)) return next(new ApiError(403, 'scope_missing', `this API key's scopes do not allow ${needed === 'steer' ? 'starting or steering runs' : needed === 'decide' ? 'deciding approvals' : 'reading'}`));
  next();
};
