/**
 * api/access.ts: who sees, steers and decides a run by its team and the caller's credential; APPROVERS reaches
 * personal runs only; scopes narrow even the owner; the team of a new run when none is named.
 */
import { Access } from '../../api/access';
import type { Principal, Scope, TeamRole } from '../../contract/identity';

const access = new Access({ approvals: { approvers: ['leo'], selfApproval: true } as never });
const who = (user: string, roles: TeamRole[] = [], scopes: readonly Scope[] | 'all' = 'all'): Principal => ({ user, roles, scopes, method: 'token' });
const teamRun = { owner: 'mia', team: 'payments' };
const personalRun = { owner: 'pat', team: null };

describe('access', () => {
  it('lets a team\'s roles see, steer and decide its runs as their role grants, and no one else', () => {
    const viewer = who('vic', [{ team: 'payments', role: 'viewer' }]);
    const approver = who('amy', [{ team: 'payments', role: 'approver' }]);
    const admin = who('ada', [{ team: 'payments', role: 'admin' }]);
    const outsider = who('ollie', [{ team: 'billing', role: 'admin' }]);
    expect([access.canSee(viewer, teamRun), access.canSteer(viewer, teamRun), access.canDecide(viewer, teamRun)]).toEqual([true, false, false]);
    expect([access.canSee(approver, teamRun), access.canSteer(approver, teamRun), access.canDecide(approver, teamRun)]).toEqual([true, false, true]);
    expect([access.canSee(admin, teamRun), access.canSteer(admin, teamRun), access.canDecide(admin, teamRun)]).toEqual([true, true, true]);
    expect([access.canSee(outsider, teamRun), access.canSteer(outsider, teamRun), access.canDecide(outsider, teamRun)]).toEqual([false, false, false]);
  });

  it('keeps the legacy APPROVERS to personal runs', () => {
    expect([access.canSee(who('leo'), personalRun), access.canDecide(who('leo'), personalRun), access.canSteer(who('leo'), personalRun)]).toEqual([true, true, false]);
    expect([access.canSee(who('leo'), teamRun), access.canDecide(who('leo'), teamRun)]).toEqual([false, false]);
  });

  it('narrows even the owner by the credential\'s scopes', () => {
    const readOnly = who('pat', [], ['runs:read']);
    expect([access.canSee(readOnly, personalRun), access.canSteer(readOnly, personalRun), access.canDecide(readOnly, personalRun)]).toEqual([true, false, false]);
    expect(() => access.assertSteer(readOnly, { ...personalRun, id: 'run_1' } as never)).toThrow(expect.objectContaining({ status: 403, code: 'scope_missing' }));
    expect(() => access.assertVisible(who('sam'), { ...personalRun, id: 'run_1' } as never)).toThrow(expect.objectContaining({ status: 404, code: 'run_not_found' }));
  });

  it('puts a new run on the team named, or the one team the caller may steer on; several is team_required', () => {
    const member = who('mia', [{ team: 'payments', role: 'member' }, { team: 'billing', role: 'viewer' }]);
    expect(access.teamForNewRun(member, undefined)).toBe('payments');
    expect(access.teamForNewRun(member, 'payments')).toBe('payments');
    expect(() => access.teamForNewRun(member, 'billing')).toThrow(expect.objectContaining({ status: 403, code: 'forbidden' }));
    expect(() => access.teamForNewRun(member, 'nosuch')).toThrow(expect.objectContaining({ status: 403, code: 'forbidden' }));
    expect(access.teamForNewRun(who('pat'), undefined)).toBeNull();
    const both = who('max', [{ team: 'payments', role: 'member' }, { team: 'billing', role: 'admin' }]);
    expect(() => access.teamForNewRun(both, undefined)).toThrow(expect.objectContaining({ status: 400, code: 'team_required' }));
    expect(access.teamForNewRun(both, null)).toBeNull(); // a personal run, asked for
    expect(() => access.teamForNewRun(who('kay', [{ team: 'payments', role: 'member' }], ['runs:read']), undefined)).toThrow(expect.objectContaining({ code: 'scope_missing' }));
  });
});
