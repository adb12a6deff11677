/**
 * A team's daily budget from the environment: TEAM_DAILY_BUDGETS, parsed once, is the budget of every team whose
 * admin set none through the API — the one the model call's admission and the API read (teamDailyBudget).
 */
import { teamDailyBudget } from '../../shared/capacity/team-budget';
import { ConfigError, loadConfig } from '../../shared/config';
import type { TeamBudgetRecord } from '../../shared/store/team-budgets';

describe('TEAM_DAILY_BUDGETS', () => {
  const setByAdmin = new Map<string, TeamBudgetRecord>();
  const store = { teamBudgets: { get: async (team: string) => setByAdmin.get(team) } } as unknown as Parameters<typeof teamDailyBudget>[0];

  it("is a team's budget unless its admin set one; a team not named has none", async () => {
    const config = loadConfig({ TEAM_DAILY_BUDGETS: 'payments:50, billing-eu:0.5' });
    expect(await teamDailyBudget(store, config, 'payments')).toEqual({ dailyUsd: 50, source: 'config' });
    expect(await teamDailyBudget(store, config, 'billing-eu')).toEqual({ dailyUsd: 0.5, source: 'config' });
    expect(await teamDailyBudget(store, config, 'ops')).toBeUndefined();
    setByAdmin.set('payments', { team: 'payments', dailyUsd: 12, setBy: 'ada', updatedAt: new Date().toISOString() });
    expect(await teamDailyBudget(store, config, 'payments')).toEqual({ dailyUsd: 12, source: 'api' });
    expect(await teamDailyBudget(store, loadConfig({}), 'billing-eu')).toBeUndefined();
  });

  it.each([['Payments:50'], ['payments:lots'], ['payments:-1'], ['payments']])('refuses %s at start, naming the option', (value) => {
    expect(() => loadConfig({ TEAM_DAILY_BUDGETS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TEAM_DAILY_BUDGETS: value })).toThrow('TEAM_DAILY_BUDGETS');
  });
});
