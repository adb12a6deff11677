/**
 * Who is calling and what they may do: the one vocabulary of sign-in, API keys, teams and roles, shared by the
 * API, the CLI, the web UI and the tests.
 *
 * A caller is a Principal: a Longhaul user with roles per team, reached through one credential (a static token,
 * a browser session, a provider's JWT, an API key, or nothing at all on an open loopback server). What the caller
 * may do on a team is what their role there grants, narrowed by the credential's scopes (an API key's).
 */

/** Roles a user holds per team. An admin may do everything on the team; the others grant what ROLE_GRANTS says. */
export const ROLES = ['viewer', 'member', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a role or a scope allows: read runs, start and steer runs, decide approvals, administer the team. */
export const PERMISSIONS = ['read', 'steer', 'decide', 'administer'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  member: ['read', 'steer'],
  approver: ['read', 'decide'],
  admin: ['read', 'steer', 'decide', 'administer'],
};

/** What an API key may be used for. A credential without scopes (a session, a JWT, a static token) is not narrowed. */
export const SCOPES = ['runs:read', 'runs:write', 'approvals:decide', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_GRANTS: Record<Scope, readonly Permission[]> = {
  'runs:read': ['read'],
  'runs:write': ['read', 'steer'],
  'approvals:decide': ['read', 'decide'],
  admin: ['read', 'steer', 'decide', 'administer'],
};

/** Every API key starts with this, so secret scanners can find a leaked one. */
export const API_KEY_PREFIX = 'lh_';

/** How the caller proved who they are. */
export const AUTH_METHODS = ['open', 'token', 'session', 'jwt', 'key'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface TeamRole {
  team: string;
  role: Role;
}

export interface Principal {
  user: string;
  /** The user's roles, per team (empty for a user of no team: they see and steer only their own runs). */
  roles: TeamRole[];
  /** The credential's scopes; `all` for credentials that carry none. */
  scopes: readonly Scope[] | 'all';
  method: AuthMethod;
  /** The API key used, when method is `key` (its id, never its secret). */
  keyId?: string;
  /** The browser session used, when method is `session` (its stored id, a hash, never the cookie's secret). */
  sessionId?: string;
  /** When the credential stops working by itself (a provider's JWT: its `exp`); a live stream it opened ends then. */
  expiresAt?: string;
}

const TEAM_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A team's name: lower case letters, digits, `-` and `_`, at most 63 characters. */
export function isTeamName(s: string): boolean {
  return TEAM_NAME.test(s);
}

/** `payments:approver` → { team: 'payments', role: 'approver' }; anything else (an unknown role too) → undefined. */
export function parseTeamRole(s: string): TeamRole | undefined {
  const i = s.lastIndexOf(':');
  if (i <= 0) return undefined;
  const team = s.slice(0, i);
  const role = s.slice(i + 1);
  if (!isTeamName(team) || !(ROLES as readonly string[]).includes(role)) return undefined;
  return { team, role: role as Role };
}

/** Whether the scopes of the caller's credential allow a permission at all. */
export function scopeAllows(scopes: Principal['scopes'], permission: Permission): boolean {
  return scopes === 'all' || scopes.some((s) => SCOPE_GRANTS[s].includes(permission));
}

/** Whether the principal holds a permission on a team: a role there grants it and the credential's scopes allow it. */
export function mayOnTeam(p: Principal, team: string, permission: Permission): boolean {
  return scopeAllows(p.scopes, permission) && rolesAllow(p.roles, team, permission);
}

/** Whether some role held on a team grants a permission, whatever the credential (a schedule's firing has none). */
export function rolesAllow(roles: readonly TeamRole[], team: string, permission: Permission): boolean {
  return roles.some((r) => r.team === team && ROLE_GRANTS[r.role].includes(permission));
}

/** The teams on which the principal holds a permission. */
export function teamsWhere(p: Principal, permission: Permission): string[] {
  if (!scopeAllows(p.scopes, permission)) return [];
  return [...new Set(p.roles.filter((r) => ROLE_GRANTS[r.role].includes(permission)).map((r) => r.team))];
}
