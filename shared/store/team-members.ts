/**
 * Who holds which role on which team (migration 015), and when the provider issued the `provider` ones (migration
 * 025). The one place roles are stored, whatever gave them.
 */
import { ROLES, type Role, type TeamRole } from '../../contract/identity';
import { inTransaction, nowIso, type Executor } from './executor';

export type MembershipSource = 'provider' | 'admin';

export interface Membership extends TeamRole {
  user: string;
  source: MembershipSource;
  updatedAt: string;
}

/**
 * What became of the provider's roles offered for a user: written (`replaced`), already what was stored
 * (`unchanged`), or refused because the stored ones came from a token issued later (`stale`, with that token's time).
 */
export type ProviderRolesWrite = { outcome: 'replaced' | 'unchanged' } | { outcome: 'stale'; storedIssuedAtMs: number };

const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

/**
 * The row of provider_roles_issued that holds no user's time but every user's floor: no token issued before it
 * writes provider roles (set by migration 025 in a database that already knew people). No user id is empty.
 */
export const PROVIDER_ROLES_FLOOR = '';

export class TeamMembersRepo {
  constructor(private readonly db: Executor) {}

  /** A user's roles on every team, from every source; a role stored that this version does not know is left out. */
  async rolesOf(user: string): Promise<TeamRole[]> {
    const rows = await this.db.selectFrom('team_members').select(['team', 'role']).where('user_id', '=', user).orderBy('team').orderBy('role').execute();
    const roles: TeamRole[] = [];
    for (const r of rows) if (isRole(r.role) && !roles.some((x) => x.team === r.team && x.role === r.role)) roles.push({ team: r.team, role: r.role });
    return roles;
  }

  /**
   * Makes the provider's word on a user the whole of their `provider` roles, in the order the provider issued it: the
   * roles of a sign-in or a token replace those of the last write (a group taken away at the provider is taken away
   * here) unless that write came from a newer token — an old, still-valid token must not put back a role taken away
   * since. `issuedAtMs` is the token's `iat` (epoch ms); the same instant as the stored one counts as current. The
   * check and the write are one transaction behind one row's lock (Postgres) or the database's (SQLite), so two
   * replicas writing at once end with the newer token's roles. Roles an admin gave stay.
   */
  async replaceFromProvider(user: string, roles: TeamRole[], issuedAtMs: number): Promise<ProviderRolesWrite> {
    return inTransaction(this.db, async (trx) => {
      const floor = await trx.selectFrom('provider_roles_issued').select('issued_at_ms').where('user_id', '=', PROVIDER_ROLES_FLOOR).executeTakeFirst();
      if (floor && issuedAtMs < Number(floor.issued_at_ms)) return { outcome: 'stale', storedIssuedAtMs: Number(floor.issued_at_ms) };
      // Keeps the later of the stored and the offered issue time, and says which it kept.
      const { issued_at_ms: stored } = await trx
        .insertInto('provider_roles_issued')
        .values({ user_id: user, issued_at_ms: issuedAtMs })
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet((eb) => ({
            issued_at_ms: eb
              .case()
              .when('provider_roles_issued.issued_at_ms', '>', eb.ref('excluded.issued_at_ms'))
              .then(eb.ref('provider_roles_issued.issued_at_ms'))
              .else(eb.ref('excluded.issued_at_ms'))
              .end(),
          })),
        )
        .returning('issued_at_ms')
        .executeTakeFirstOrThrow();
      if (Number(stored) > issuedAtMs) return { outcome: 'stale', storedIssuedAtMs: Number(stored) };
      const before = await trx.selectFrom('team_members').select(['team', 'role']).where('user_id', '=', user).where('source', '=', 'provider').execute();
      const key = (r: { team: string; role: string }) => `${r.team}\u0000${r.role}`;
      const want = new Set(roles.map(key));
      const have = new Set(before.map(key));
      if (want.size === have.size && [...want].every((k) => have.has(k))) return { outcome: 'unchanged' };
      await trx.deleteFrom('team_members').where('user_id', '=', user).where('source', '=', 'provider').execute();
      const now = nowIso();
      const rows = [...new Map(roles.map((r) => [key(r), r])).values()].map((r) => ({ team: r.team, user_id: user, role: r.role, source: 'provider', updated_at: now }));
      // An admin's grant of the same role stays the row of record.
      for (const row of rows) await trx.insertInto('team_members').values(row).onConflict((oc) => oc.columns(['team', 'user_id', 'role']).doNothing()).execute();
      return { outcome: 'replaced' };
    });
  }

  /** An admin gives a user a role on a team (idempotent). */
  async grant(team: string, user: string, role: Role): Promise<void> {
    await this.db
      .insertInto('team_members')
      .values({ team, user_id: user, role, source: 'admin', updated_at: nowIso() })
      .onConflict((oc) => oc.columns(['team', 'user_id', 'role']).doUpdateSet({ source: 'admin', updated_at: nowIso() }))
      .execute();
  }

  /** Takes a role away, whatever gave it. Returns whether the user had it. */
  async revoke(team: string, user: string, role: Role): Promise<boolean> {
    const r = await this.db.deleteFrom('team_members').where('team', '=', team).where('user_id', '=', user).where('role', '=', role).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Every team each of these users holds a role on (a user on none is absent). A role this version does not know
   * still counts here: it places the user on that team, and whoever asks about the user's teams must see it.
   */
  async teamsOf(users: readonly string[]): Promise<Map<string, Set<string>>> {
    const teams = new Map<string, Set<string>>();
    if (users.length === 0) return teams;
    const rows = await this.db.selectFrom('team_members').select(['user_id', 'team']).distinct().where('user_id', 'in', [...users]).execute();
    for (const r of rows) teams.set(r.user_id, (teams.get(r.user_id) ?? new Set()).add(r.team));
    return teams;
  }

  async members(team: string): Promise<Membership[]> {
    const rows = await this.db.selectFrom('team_members').selectAll().where('team', '=', team).orderBy('user_id').orderBy('role').execute();
    return rows.filter((r) => isRole(r.role)).map((r) => ({ team: r.team, user: r.user_id, role: r.role as Role, source: r.source as MembershipSource, updatedAt: r.updated_at }));
  }
}
