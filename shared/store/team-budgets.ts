/** Teams' daily model budgets set by their admins through the API (migration 019); TEAM_DAILY_BUDGETS covers the rest. */
import { sql } from 'kysely';
import type { Dialect } from './open-database';
import { nowIso, type Executor } from './executor';

export interface TeamBudgetRecord {
  team: string;
  dailyUsd: number;
  setBy: string;
  updatedAt: string;
}

export class TeamBudgetsRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Serialises the team's budget decisions for the rest of the transaction, as an owner's are (Postgres: an advisory
   * lock per team; SQLite: its transactions already hold the write lock).
   */
  async lock(team: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`longhaul:team-budget:${team}`}))`.execute(this.db);
  }

  /** What the team's runs spent on `day` (UTC) and what their calls in flight at `nowMs` have reserved. */
  async spentOn(team: string, day: string, nowMs: number): Promise<{ spentUsd: number; reservedUsd: number }> {
    const spent = await this.db
      .selectFrom('model_calls')
      .innerJoin('runs', 'runs.id', 'model_calls.run_id')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('model_calls.cost_usd'), sql<number>`0`).as('usd'))
      .where('runs.team', '=', team)
      .where('model_calls.day', '=', day)
      .executeTakeFirst();
    const reserved = await this.db
      .selectFrom('capacity_reservations')
      .innerJoin('runs', 'runs.id', 'capacity_reservations.run_id')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('capacity_reservations.cost_usd'), sql<number>`0`).as('usd'))
      .where('runs.team', '=', team)
      .where('capacity_reservations.expires_ms', '>=', nowMs)
      .executeTakeFirst();
    return { spentUsd: Number(spent?.usd ?? 0), reservedUsd: Number(reserved?.usd ?? 0) };
  }

  async get(team: string): Promise<TeamBudgetRecord | undefined> {
    const row = await this.db.selectFrom('team_budgets').selectAll().where('team', '=', team).executeTakeFirst();
    return row ? { team: row.team, dailyUsd: Number(row.daily_usd), setBy: row.set_by, updatedAt: row.updated_at } : undefined;
  }

  async set(team: string, dailyUsd: number, by: string): Promise<TeamBudgetRecord> {
    const now = nowIso();
    await this.db
      .insertInto('team_budgets')
      .values({ team, daily_usd: dailyUsd, set_by: by, updated_at: now })
      .onConflict((oc) => oc.column('team').doUpdateSet({ daily_usd: dailyUsd, set_by: by, updated_at: now }))
      .execute();
    return { team, dailyUsd, setBy: by, updatedAt: now };
  }

  /** Back to the deployment's default (TEAM_DAILY_BUDGETS, or none). Returns whether a budget was set. */
  async clear(team: string): Promise<boolean> {
    const r = await this.db.deleteFrom('team_budgets').where('team', '=', team).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
