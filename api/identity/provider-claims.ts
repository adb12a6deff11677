/**
 * What Longhaul takes from a provider's claims (an ID token, userinfo, a JWT access token): the user id and the
 * roles. Pure, so the rules are tested without a provider: a roles claim holds `team:role` strings (`payments:approver`),
 * as a list or one string; anything else in it (other groups of the directory, unknown roles) is ignored.
 */
import { parseTeamRole, type TeamRole } from '../../contract/identity';

/** The roles the claim's value names; the first of each team:role pair kept, in order. */
export function rolesFromClaim(value: unknown): TeamRole[] {
  const items = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value : [];
  const roles: TeamRole[] = [];
  for (const item of items) {
    if (typeof item !== 'string') continue;
    const role = parseTeamRole(item.trim());
    if (role && !roles.some((r) => r.team === role.team && r.role === role.role)) roles.push(role);
  }
  return roles;
}

/** The Longhaul user id a set of claims names: the configured claim, a non-empty string of at most 200 characters. */
export function userFromClaims(claims: Record<string, unknown>, userClaim: string): string | undefined {
  const v = claims[userClaim];
  if (typeof v !== 'string') return undefined;
  const user = v.trim();
  return user && user.length <= 200 ? user : undefined;
}

/** The email to record for a user: only one the provider says is verified. */
export function verifiedEmail(claims: Record<string, unknown>): string | undefined {
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  return verified && typeof claims.email === 'string' && claims.email.includes('@') ? claims.email : undefined;
}

/** Whether two role lists hold the same team:role pairs, whatever their order. */
export function sameRoles(a: readonly TeamRole[], b: readonly TeamRole[]): boolean {
  const key = (r: TeamRole) => `${r.team}:${r.role}`;
  const sa = new Set(a.map(key));
  const sb = new Set(b.map(key));
  return sa.size === sb.size && [...sa].every((k) => sb.has(k));
}

/** When the token was issued (`iat`), in epoch milliseconds; undefined when it does not say (or says nonsense). */
export function issuedAtMs(claims: Record<string, unknown>): number | undefined {
  const iat = claims.iat;
  return typeof iat === 'number' && Number.isFinite(iat) && iat > 0 ? iat * 1000 : undefined;
}
