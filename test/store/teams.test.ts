/**
 * Teams in the store (migration 019) on SQLite and Postgres: a run's and a schedule's team, lists of one's own runs
 * and one's teams', a team's budget set and cleared, and a team's spend today (recorded calls and calls in flight
 * of the team's runs only).
 */
import type { Store } from '../../shared/store';
import { openTestStore } from '../support/test-store';

const LIMITS = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
const USAGE = { inputTokens: 10, outputTokens: 10, costUsd: 0.25 };

describe.each(['sqlite', 'postgres'] as const)('teams in the store (%s)', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(async () => close());

  const run = (id: string, owner: string, team: string | null) => store.runs.insert({ id, owner, goal: id, model: 'demo', approvals: 'none', limits: LIMITS, team });

  it('keeps a run\'s team and lists one\'s own runs with one\'s teams\'', async () => {
    await run('run_pay', 'mia', 'payments');
    await run('run_bill', 'ollie', 'billing');
    await run('run_mine', 'vic', null);
    expect((await store.runs.get('run_pay'))!.team).toBe('payments');
    expect((await store.runs.get('run_mine'))!.team).toBeNull();
    const ids = async (q: { owner: string; teams?: string[]; team?: string }) => (await store.runs.list({ ...q, limit: 10 })).map((r) => r.id).sort();
    expect(await ids({ owner: 'vic', teams: ['payments'] })).toEqual(['run_mine', 'run_pay']);
    expect(await ids({ owner: 'vic' })).toEqual(['run_mine']);
    expect(await ids({ owner: 'vic', teams: ['payments'], team: 'payments' })).toEqual(['run_pay']);
    expect(await ids({ owner: 'ollie', teams: ['billing'] })).toEqual(['run_bill']);
  });

  it("lists the open questions of one's own runs and of one's teams' runs, not another team's", async () => {
    await run('run_q_pay', 'mia', 'payments');
    await run('run_q_bill', 'ollie', 'billing');
    await run('run_q_own', 'vic', null);
    const ask = (id: string, runId: string) =>
      store.inputs.insert({ id, runId, turn: 1, toolUseId: `tu_${id}`, question: 'which?', requestedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await ask('in_pay', 'run_q_pay');
    await ask('in_bill', 'run_q_bill');
    await ask('in_own', 'run_q_own');
    // As the inbox reads them for someone who may steer their own runs and their teams' (Access.steerScope).
    const asked = async (owner: string, teams: string[] = []) => (await store.inputs.pendingPageIn({ owner, teams, personal: false }, { limit: 100 })).map((q) => q.id).sort();
    expect(await asked('vic')).toEqual(['in_own']);
    expect(await asked('vic', ['payments'])).toEqual(['in_own', 'in_pay']);
    expect(await asked('ollie', ['billing'])).toEqual(['in_bill']);
  });

  it('keeps a schedule\'s team and lists one\'s own schedules with one\'s teams\'', async () => {
    const base = { name: 's', goal: 'g', request: { model: 'demo', approvals: 'none' as const, limits: LIMITS, approvalTimeoutSec: 60, webhooks: { to: [], publicUrl: null } }, cron: null, everySec: 60, timezone: 'UTC', overlap: 'skip' as const };
    await store.schedules.insert({ ...base, id: 'sch_pay', owner: 'mia', team: 'payments' });
    await store.schedules.insert({ ...base, id: 'sch_old', owner: 'vic' });
    expect((await store.schedules.get('sch_pay'))!.team).toBe('payments');
    expect((await store.schedules.get('sch_old'))!.team).toBeNull();
    expect((await store.schedules.listVisible('vic', ['payments'])).map((s) => s.id).sort()).toEqual(['sch_old', 'sch_pay']);
    expect((await store.schedules.listVisible('ollie', ['billing'])).map((s) => s.id)).toEqual([]);
  });

  it('sets and clears a team\'s budget, and counts only the team\'s runs\' spend and calls in flight', async () => {
    expect(await store.teamBudgets.get('payments')).toBeUndefined();
    await store.teamBudgets.set('payments', 50, 'ada');
    await store.teamBudgets.set('payments', 40, 'ada');
    expect(await store.teamBudgets.get('payments')).toMatchObject({ team: 'payments', dailyUsd: 40, setBy: 'ada' });
    const now = Date.now();
    await store.modelCalls.record({ key: 'k1', runId: 'run_pay', model: 'demo', atMs: now, day: '2026-12-06', usage: USAGE });
    await store.modelCalls.record({ key: 'k2', runId: 'run_bill', model: 'demo', atMs: now, day: '2026-12-06', usage: USAGE });
    await store.modelCalls.record({ key: 'k3', runId: 'run_pay', model: 'demo', atMs: now, day: '2026-12-05', usage: USAGE });
    await store.capacity.addReservation({ key: 'r1', runId: 'run_pay', owner: 'mia', model: 'demo', inputTokens: 0, outputTokens: 0, costUsd: 0.5, expiresMs: now + 60_000 });
    await store.capacity.addReservation({ key: 'r2', runId: 'run_pay', owner: 'mia', model: 'demo', inputTokens: 0, outputTokens: 0, costUsd: 9, expiresMs: now - 1 });
    await store.transaction(async (tx) => {
      await tx.teamBudgets.lock('payments');
      expect(await tx.teamBudgets.spentOn('payments', '2026-12-06', now)).toEqual({ spentUsd: 0.25, reservedUsd: 0.5 });
    });
    expect(await store.teamBudgets.spentOn('nosuch', '2026-12-06', now)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await store.teamBudgets.clear('payments')).toBe(true);
    expect(await store.teamBudgets.clear('payments')).toBe(false);
  });
});
