/** Who holds which role on which team (migration 015). The one place roles are stored, whatever gave them. */
import { ROLES, type Role, type TeamRole } from '../../contract/identity';
import { inTransaction, nowIso, type Executor } from './executor';

export type MembershipSource = 'provider' | 'admin';

export interface Membership extends TeamRole {
  user: string;
  source: MembershipSource;
  updatedAt: string;
}

const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

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
   * Makes the provider's word on a user the whole of their `provider` roles: the roles of a sign-in or a token
   * replace those of the last one (a group taken away at the provider is taken away here). Roles an admin gave stay.
   * Returns whether anything changed, so callers can skip the write when nothing did.
   */
  async replaceFromProvider(user: string, roles: TeamRole[]): Promise<boolean> {
    return inTransaction(this.db, async (trx) => {
      const before = await trx.selectFrom('team_members').select(['team', 'role']).where('user_id', '=', user).where('source', '=', 'provider').execute();
      const key = (r: { team: string; role: string }) => `${r.team}\u0000${r.role}`;
      const want = new Set(roles.map(key));
      const have = new Set(before.map(key));
      if (want.size === have.size && [...want].every((k) => have.has(k))) return false;
      await trx.deleteFrom('team_members').where('user_id', '=', user).where('source', '=', 'provider').execute();
      const now = nowIso();
      const rows = [...new Map(roles.map((r) => [key(r), r])).values()].map((r) => ({ team: r.team, user_id: user, role: r.role, source: 'provider', updated_at: now }));
      // An admin's grant of the same role stays the row of record.
      for (const row of rows) await trx.insertInto('team_members').values(row).onConflict((oc) => oc.columns(['team', 'user_id', 'role']).doNothing()).execute();
      return true;
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

  async members(team: string): Promise<Membership[]> {
    const rows = await this.db.selectFrom('team_members').selectAll().where('team', '=', team).orderBy('user_id').orderBy('role').execute();
    return rows.filter((r) => isRole(r.role)).map((r) => ({ team: r.team, user: r.user_id, role: r.role as Role, source: r.source as MembershipSource, updatedAt: r.updated_at }));
  }
}
