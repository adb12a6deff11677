/**
 * Teams through the API: the caller's own teams and roles, and — for a team's admins — its members and its daily
 * model budget. Roles written here are an admin's grants (source `admin`), which a sign-in's provider roles never
 * replace; TEAM_ROLES is applied the same way at start (`applyConfiguredRoles`).
 *
 * A grant takes no consent from the user granted: an admin may add anyone to their team. So a role here gives the
 * admin no say over what the user holds elsewhere — their API keys are the admin's to manage only when the admin
 * administers every team the user is on (api/api-key-service.ts).
 */
import { ROLES, isTeamName, type Principal, type Role } from '../contract/identity';
import type { TeamBudget, TeamList, TeamMembers } from '../contract/api';
import type { Config } from '../shared/config';
import type { Store } from '../shared/store';
import { teamDailyBudget } from '../shared/capacity/team-budget';
import { utcDay } from '../shared/capacity/model-limits';
import type { Access } from './access';
import { ApiError } from './errors';

/** The longest user id a grant takes (ids come from tokens and providers; this only stops nonsense). */
const MAX_USER_CHARS = 200;

export class TeamService {
  constructor(private readonly deps: { store: Store; config: Config; access: Access }) {}

  /** The caller's teams and their roles on each, as their credential carries them. */
  list(caller: Principal): TeamList {
    const byTeam = new Map<string, Role[]>();
    for (const r of caller.roles) byTeam.set(r.team, [...(byTeam.get(r.team) ?? []), r.role]);
    return { teams: [...byTeam.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([team, roles]) => ({ team, roles })) };
  }

  async members(caller: Principal, team: string): Promise<TeamMembers> {
    this.admin(caller, team);
    return this.membersOf(team);
  }

  async grant(caller: Principal, team: string, user: string, role: string): Promise<TeamMembers> {
    this.admin(caller, team);
    await this.deps.store.teamMembers.grant(team, checkUser(user), checkRole(role));
    return this.membersOf(team);
  }

  async revoke(caller: Principal, team: string, user: string, role: string): Promise<void> {
    this.admin(caller, team);
    await this.deps.store.teamMembers.revoke(team, checkUser(user), checkRole(role));
  }

  async budget(caller: Principal, team: string): Promise<TeamBudget> {
    this.admin(caller, team);
    return this.budgetOf(team);
  }

  async setBudget(caller: Principal, team: string, dailyUsd: number | null): Promise<TeamBudget> {
    this.admin(caller, team);
    if (dailyUsd === null) await this.deps.store.teamBudgets.clear(team);
    else await this.deps.store.teamBudgets.set(team, dailyUsd, caller.user);
    return this.budgetOf(team);
  }

  private admin(caller: Principal, team: string): void {
    if (!isTeamName(team)) throw new ApiError(400, 'invalid_request', 'a team name is lower case letters, digits, - and _ (at most 63)');
    this.deps.access.assertAdmin(caller, team);
  }

  private async membersOf(team: string): Promise<TeamMembers> {
    const members = await this.deps.store.teamMembers.members(team);
    return { team, members: members.map((m) => ({ user: m.user, role: m.role, source: m.source, updatedAt: m.updatedAt })) };
  }

  private async budgetOf(team: string): Promise<TeamBudget> {
    const now = Date.now();
    const budget = await teamDailyBudget(this.deps.store, this.deps.config, team);
    const { spentUsd, reservedUsd } = await this.deps.store.teamBudgets.spentOn(team, utcDay(now), now);
    return { team, dailyUsd: budget?.dailyUsd ?? null, source: budget?.source ?? null, spentTodayUsd: spentUsd + reservedUsd };
  }
}

/** TEAM_ROLES, granted at start as an admin's grants (idempotent: a restart grants the same again). */
export async function applyConfiguredRoles(store: Pick<Store, 'teamMembers'>, config: Pick<Config, 'teams'>): Promise<void> {
  for (const g of config.teams.roles) await store.teamMembers.grant(g.team, g.user, g.role);
}

function checkUser(user: string): string {
  if (!user || user.length > MAX_USER_CHARS || !/^[\x21-\x7e\u00a0-\uffff]+$/.test(user)) throw new ApiError(400, 'invalid_request', 'user: not a user id');
  return user;
}

function checkRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw new ApiError(400, 'invalid_request', `role: one of ${ROLES.join(', ')}`);
  return role as Role;
}
