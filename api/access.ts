/**
 * Who may do what with a run, a schedule or a team: the one place the API asks (routes, the WebSocket, SSE, the
 * runs feed, Slack). A caller is a Principal (contract/identity.ts): their roles per team, narrowed by their
 * credential's scopes — which narrow even a run's owner.
 *
 * - see: the owner, `read` on the run's team, or (a personal run) a legacy APPROVER;
 * - steer (cancel, pause, resume, follow-up, answer, upgrade, release the workspace): the owner, or `steer` on the team;
 * - decide: `decide` on the run's team, (a personal run) a legacy APPROVER, or the owner with SELF_APPROVAL.
 *
 * APPROVERS reaches personal runs only: a list from before teams must not cut through a team's walls. Anyone who
 * may not see a run cannot tell it exists (404, never a 403 that says something about it); anything unknown is
 * refused.
 */
import { mayOnTeam, scopeAllows, teamsWhere, type Permission, type Principal } from '../contract/identity';
import type { Config } from '../shared/config';
import type { RunScope } from '../shared/store/run-scope';
import type { RunRecord } from '../shared/store/runs';
import { ApiError, notFound } from './errors';

/** What access rules read of a run or a schedule. */
export type Owned = Pick<RunRecord, 'owner' | 'team'>;

export class Access {
  private readonly approvers: Set<string>;

  constructor(private readonly config: Pick<Config, 'approvals'>) {
    this.approvers = new Set(config.approvals.approvers);
  }

  /** In the legacy APPROVERS list (personal runs' approvers), with a credential that may decide. */
  isLegacyApprover(p: Principal): boolean {
    return this.approvers.has(p.user) && scopeAllows(p.scopes, 'decide');
  }

  canSee(p: Principal, run: Owned): boolean {
    if (!scopeAllows(p.scopes, 'read')) return false;
    if (run.owner === p.user) return true;
    return run.team !== null ? mayOnTeam(p, run.team, 'read') : this.approvers.has(p.user);
  }

  canSteer(p: Principal, run: Owned): boolean {
    if (!scopeAllows(p.scopes, 'steer')) return false;
    return run.owner === p.user || (run.team !== null && mayOnTeam(p, run.team, 'steer'));
  }

  canDecide(p: Principal, run: Owned): boolean {
    if (!scopeAllows(p.scopes, 'decide')) return false;
    if (run.owner === p.user && this.config.approvals.selfApproval) return true;
    return run.team !== null ? mayOnTeam(p, run.team, 'decide') : this.approvers.has(p.user);
  }

  /**
   * canDecide as the store filters runs (the pages of the inbox and of GET /api/approvals, in SQL): its runs are exactly
   * those canDecide allows (test/store/inbox-pages.test.ts checks the two agree). null: the credential may decide nothing.
   */
  decideScope(p: Principal): RunScope | null {
    if (!scopeAllows(p.scopes, 'decide')) return null;
    return { owner: this.config.approvals.selfApproval ? p.user : null, teams: teamsWhere(p, 'decide'), personal: this.approvers.has(p.user) };
  }

  /** canSteer as the store filters runs (the inbox's questions). null: the credential may steer nothing. */
  steerScope(p: Principal): RunScope | null {
    if (!scopeAllows(p.scopes, 'steer')) return null;
    return { owner: p.user, teams: teamsWhere(p, 'steer'), personal: false };
  }

  /** Teams whose runs the caller may steer (start, answer, cancel…) besides their own. */
  steerableTeams(p: Principal): string[] {
    return teamsWhere(p, 'steer');
  }

  /** Teams whose runs and schedules the caller may read besides their own. */
  readableTeams(p: Principal): string[] {
    return teamsWhere(p, 'read');
  }

  /** 404 unless the caller may see the run. */
  assertVisible(p: Principal, run: RunRecord | undefined): asserts run is RunRecord {
    if (!run || !this.canSee(p, run)) throw notFound();
  }

  /** Cancel, pause, resume, follow-ups, answers, upgrades, releasing the workspace: 404 unless seen, 403 unless steerable. */
  assertSteer(p: Principal, run: RunRecord | undefined): asserts run is RunRecord {
    this.assertVisible(p, run);
    if (!this.canSteer(p, run)) throw refusal(p, 'steer', 'you may not steer this run: only its owner or a member of its team may');
  }

  /** Deciding an approval on a run the caller sees: 403 unless they may decide it. */
  assertDecide(p: Principal, run: RunRecord): void {
    if (!this.canDecide(p, run)) throw this.decideRefusal(p);
  }

  /** The 403 for a caller who sees a run but may not decide its approvals. */
  decideRefusal(p: Principal): ApiError {
    return refusal(p, 'decide', 'you may not decide approvals on this run');
  }

  /**
   * Starting a run or a schedule on a team: `steer` there. A team the caller holds no role on gets the same 403
   * as one they only may not steer on, saying nothing of whether it exists.
   */
  assertMayStartOn(p: Principal, team: string): void {
    if (!mayOnTeam(p, team, 'steer')) throw refusal(p, 'steer', `you may not start runs on team ${team}`);
  }

  /**
   * The team a new run (or schedule) belongs to: the one asked (the caller must be able to steer there), `null` for a
   * personal run, or, when none is asked, the caller's one team where they may steer; none → a personal run;
   * several → 400 `team_required`. Refusing to guess among several keeps a run from landing, unseen, in the wrong
   * team's budget and inbox.
   */
  teamForNewRun(p: Principal, asked: string | null | undefined): string | null {
    if (typeof asked === 'string') {
      this.assertMayStartOn(p, asked);
      return asked;
    }
    if (!scopeAllows(p.scopes, 'steer')) throw new ApiError(403, 'scope_missing', 'this credential may not start runs');
    if (asked === null) return null;
    const teams = teamsWhere(p, 'steer');
    if (teams.length === 0) return null;
    if (teams.length === 1) return teams[0]!;
    throw new ApiError(400, 'team_required', `you may start runs on several teams (${teams.join(', ')}): say which with \`team\``);
  }

  /** A team's members and budget: its admins only (403 otherwise, alike for a team that does not exist). */
  assertAdmin(p: Principal, team: string): void {
    if (!mayOnTeam(p, team, 'administer')) throw refusal(p, 'administer', `only an admin of team ${team} may do this`);
  }
}

/** 403: `scope_missing` when the caller's role would allow it and only their credential's scopes do not; else `forbidden`. */
function refusal(p: Principal, permission: Permission, message: string): ApiError {
  if (!scopeAllows(p.scopes, permission)) return new ApiError(403, 'scope_missing', `this credential's scopes do not allow ${permission}`);
  return new ApiError(403, 'forbidden', message);
}
