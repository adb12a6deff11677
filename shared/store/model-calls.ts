/**
 * Every paid model call, once (keyed by its ledger key, written in the transaction that records
 * the answer): what each owner spent per UTC day, and what each model used in the last minute.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Usage } from '../../contract/run';
import type { Executor } from './executor';

export interface ModelCallRecord {
  key: string;
  runId: string;
  model: string;
  atMs: number;
  day: string;
  usage: Usage;
}

export interface DailySpend {
  day: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export class ModelCallsRepo {
  constructor(private readonly db: Executor) {}

  /** Records a call, its owner taken from the run's row in the same statement. */
  async record(c: ModelCallRecord): Promise<void> {
    await ModelCallsRepo.recordStatement(c, sql<SqlBool>`true`).execute(this.db);
  }

  /**
   * `record`'s statement, written only where `onlyIf` holds (see MessagesRepo.putStatement). Written as SQL, not
   * built: one every model call, and Kysely's builder took longer to assemble it than the database to run it.
   */
  static recordStatement(c: ModelCallRecord, onlyIf: RawBuilder<SqlBool>): RawBuilder<unknown> {
    return sql`insert into "model_calls" ("key", "run_id", "owner", "model", "day", "at_ms", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd")
      select ${c.key}, ${c.runId}, "runs"."owner", ${c.model}, ${c.day}, ${c.atMs}, ${c.usage.inputTokens}, ${c.usage.outputTokens}, ${c.usage.cacheReadTokens ?? 0}, ${c.usage.cacheWriteTokens ?? 0}, ${c.usage.costUsd}
      from "runs" where "runs"."id" = ${c.runId} and ${onlyIf}
      on conflict ("key") do nothing`;
  }

  /**
   * What the owner spent on `day` (UTC) and what their calls in flight at `nowMs` have reserved, read in one statement
   * so in one snapshot: a call settling between two reads (its reservation gone, its spend written, one commit) would
   * be in neither, and a budget decision would miss its cost. On SQLite a transaction's reads are one snapshot anyway.
   */
  async spentAndReservedOf(owner: string, day: string, nowMs: number): Promise<{ spentUsd: number; reservedUsd: number }> {
    const { rows } = await sql<{ spent: number | string; reserved: number | string }>`
      select (select coalesce(sum("cost_usd"), 0) from "model_calls" where "owner" = ${owner} and "day" = ${day}) as "spent",
             (select coalesce(sum("cost_usd"), 0) from "capacity_reservations" where "owner" = ${owner} and "expires_ms" >= ${nowMs}) as "reserved"`.execute(this.db);
    return { spentUsd: Number(rows[0]?.spent ?? 0), reservedUsd: Number(rows[0]?.reserved ?? 0) };
  }

  async spentOn(owner: string, day: string): Promise<number> {
    const row = await this.db
      .selectFrom('model_calls')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), sql<number>`0`).as('usd'))
      .where('owner', '=', owner)
      .where('day', '=', day)
      .executeTakeFirst();
    return Number(row?.usd ?? 0);
  }

  /** The run's latest call: its cache reads and writes are what the next call can expect to read. */
  async latestOfRun(runId: string): Promise<{ atMs: number; cachedTokens: number } | undefined> {
    const row = await this.db
      .selectFrom('model_calls')
      .select(['at_ms', 'cache_read_tokens', 'cache_write_tokens'])
      .where('run_id', '=', runId)
      .orderBy('at_ms', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { atMs: Number(row.at_ms), cachedTokens: Number(row.cache_read_tokens) + Number(row.cache_write_tokens) } : undefined;
  }

  /** What `model` used since `sinceMs`, counted as the provider counts toward its limits. */
  async usedSince(model: string, sinceMs: number): Promise<{ requests: number; inputTokens: number; outputTokens: number; cacheReadTokens: number }> {
    const row = await this.db
      .selectFrom('model_calls')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.coalesce(eb.fn.sum<number>(sql`input_tokens + cache_write_tokens`), sql<number>`0`).as('input'),
        eb.fn.coalesce(eb.fn.sum<number>('output_tokens'), sql<number>`0`).as('output'),
        eb.fn.coalesce(eb.fn.sum<number>('cache_read_tokens'), sql<number>`0`).as('cache_read'),
      ])
      .where('model', '=', model)
      .where('at_ms', '>=', sinceMs)
      .executeTakeFirst();
    return { requests: Number(row?.n ?? 0), inputTokens: Number(row?.input ?? 0), outputTokens: Number(row?.output ?? 0), cacheReadTokens: Number(row?.cache_read ?? 0) };
  }

  /** Spend by UTC day and model, for one owner or everyone, days `from`…`to` inclusive; `teams`: only those teams' runs. */
  async spendByDay(q: { owner?: string; from: string; to: string; teams?: readonly string[] }): Promise<DailySpend[]> {
    let query = this.db
      .selectFrom('model_calls')
      .select((eb) => [
        'day',
        'model',
        eb.fn.countAll<number>().as('calls'),
        eb.fn.sum<number>('input_tokens').as('input'),
        eb.fn.sum<number>('output_tokens').as('output'),
        eb.fn.sum<number>('cache_read_tokens').as('cache_read'),
        eb.fn.sum<number>('cache_write_tokens').as('cache_write'),
        eb.fn.sum<number>('cost_usd').as('usd'),
      ])
      .where('day', '>=', q.from)
      .where('day', '<=', q.to);
    if (q.owner !== undefined) query = query.where('owner', '=', q.owner);
    if (q.teams !== undefined) {
      if (q.teams.length === 0) return [];
      query = query.where('run_id', 'in', this.db.selectFrom('runs').select('runs.id').where('runs.team', 'in', [...q.teams]));
    }
    const rows = await query.groupBy(['day', 'model']).orderBy('day').orderBy('model').execute();
    return rows.map((r) => ({
      day: r.day,
      model: r.model,
      calls: Number(r.calls),
      inputTokens: Number(r.input),
      outputTokens: Number(r.output),
      cacheReadTokens: Number(r.cache_read),
      cacheWriteTokens: Number(r.cache_write),
      costUsd: Number(r.usd),
    }));
  }
}
