/**
 * A team's daily model budget: the one its admin set through the API, else TEAM_DAILY_BUDGETS, else none. Read by
 * the model call's admission (before each call of a team's run) and by the API that shows and sets it.
 */
import type { Config } from '../config';
import type { Store } from '../store';

export interface TeamDailyBudget {
  dailyUsd: number;
  source: 'api' | 'config';
}

export async function teamDailyBudget(store: Pick<Store, 'teamBudgets'>, config: Pick<Config, 'teams'>, team: string): Promise<TeamDailyBudget | undefined> {
  const set = await store.teamBudgets.get(team);
  if (set) return { dailyUsd: set.dailyUsd, source: 'api' };
  const configured = config.teams.dailyBudgets.get(team);
  return configured === undefined ? undefined : { dailyUsd: configured, source: 'config' };
}
