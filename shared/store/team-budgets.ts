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

  /**
   * What the team's runs spent on `day` (UTC) and what their calls in flight at `nowMs` have reserved, in one
   * statement: one snapshot, so a call settling meanwhile is counted once (see ModelCallsRepo.spentAndReservedOf).
   */
  async spentOn(team: string, day: string, nowMs: number): Promise<{ spentUsd: number; reservedUsd: number }> {
    const { rows } = await sql<{ spent: number | string; reserved: number | string }>`
      select (select coalesce(sum("model_calls"."cost_usd"), 0) from "model_calls" inner join "runs" on "runs"."id" = "model_calls"."run_id"
                where "runs"."team" = ${team} and "model_calls"."day" = ${day}) as "spent",
             (select coalesce(sum("capacity_reservations"."cost_usd"), 0) from "capacity_reservations" inner join "runs" on "runs"."id" = "capacity_reservations"."run_id"
                where "runs"."team" = ${team} and "capacity_reservations"."expires_ms" >= ${nowMs}) as "reserved"`.execute(this.db);
    return { spentUsd: Number(rows[0]?.spent ?? 0), reservedUsd: Number(rows[0]?.reserved ?? 0) };
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
