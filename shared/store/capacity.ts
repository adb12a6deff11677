/**
 * The model capacity books: each model's token buckets (what they held at `updated_ms`), the calls
 * waiting for room, when each owner was last served, and the calls granted but not yet settled.
 * Every worker and API process reads and writes the same rows, so they agree on one set of limits.
 *
 * Concurrency: on Postgres a reservation locks its model's row (SELECT … FOR UPDATE) and an owner's
 * budget check takes a transaction-scoped advisory lock; SQLite transactions take the write lock
 * up front (BEGIN IMMEDIATE). Either way two reservations never read the same level.
 */
import { sql } from 'kysely';
import { fullBuckets, refill, type Amounts, type RateLimits } from '../capacity/token-buckets';
import type { Waiter } from '../capacity/fair-queue';
import type { Executor } from './executor';
import type { Dialect } from './open-database';

/** Prompt tokens per character sent, until actual usage calibrates it: errs high, so early calls over-reserve. */
export const DEFAULT_TOKENS_PER_CHAR = 0.34;

export interface Books {
  /** The buckets refilled up to the time asked for. */
  levels: Amounts;
  tokensPerChar: number;
  /** When the books last changed (a call granted or settled); undefined for books just opened. */
  touchedMs?: number;
}

export interface Reservation {
  key: string;
  runId: string;
  owner: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  expiresMs: number;
}

export class CapacityRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
  ) {}

  /** Reads (and on Postgres locks) a model's books, refilled to `nowMs`. Call inside a transaction. */
  async books(model: string, limits: RateLimits, nowMs: number): Promise<Books> {
    const full = fullBuckets(limits);
    await this.db
      .insertInto('capacity_books')
      .values({ model, rpm: full.rpm, input_tpm: full.input_tpm, output_tpm: full.output_tpm, updated_ms: nowMs, tokens_per_char: DEFAULT_TOKENS_PER_CHAR })
      .onConflict((oc) => oc.column('model').doNothing())
      .execute();
    let query = this.db.selectFrom('capacity_books').selectAll().where('model', '=', model);
    if (this.dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirstOrThrow();
    const stored: Amounts = { rpm: Number(row.rpm), input_tpm: Number(row.input_tpm), output_tpm: Number(row.output_tpm) };
    const touchedMs = Number(row.updated_ms);
    return { levels: refill(stored, limits, nowMs - touchedMs), tokensPerChar: Number(row.tokens_per_char), ...(touchedMs < nowMs && { touchedMs }) };
  }

  /**
   * Saves the levels as of `nowMs`, or as of when the books were last saved if that is later: a caller reads its
   * clock before it waits for the row's lock, so under load another process may have saved the books at a later
   * time meanwhile. `books()` never refills backwards, so the levels are as of that later time, and writing the
   * earlier one would make the next reader refill the time between twice (a call admitted into capacity the
   * provider never had: a 429).
   */
  async saveBooks(model: string, books: Books, nowMs: number): Promise<void> {
    const latest = this.dialect === 'postgres' ? sql<number>`greatest(updated_ms, ${nowMs})` : sql<number>`max(updated_ms, ${nowMs})`;
    await this.db
      .updateTable('capacity_books')
      .set({ rpm: books.levels.rpm, input_tpm: books.levels.input_tpm, output_tpm: books.levels.output_tpm, updated_ms: latest, tokens_per_char: books.tokensPerChar })
      .where('model', '=', model)
      .execute();
  }

  /** The calls waiting for `model`, dropping those whose run stopped coming back for them. */
  async waiters(model: string, nowMs: number): Promise<Waiter[]> {
    await this.db.deleteFrom('capacity_waiters').where('model', '=', model).where('expires_ms', '<', nowMs).execute();
    const rows = await this.db.selectFrom('capacity_waiters').selectAll().where('model', '=', model).execute();
    return rows.map((r) => ({
      runId: r.run_id,
      owner: r.owner,
      need: { rpm: 1, input_tpm: Number(r.input_tokens), output_tpm: Number(r.output_tokens) },
      enqueuedMs: Number(r.enqueued_ms),
    }));
  }

  /** Joins the queue (keeping its place when already in it) with its current need. */
  async enqueue(model: string, w: Waiter, expiresMs: number): Promise<void> {
    await this.db
      .insertInto('capacity_waiters')
      .values({ run_id: w.runId, model, owner: w.owner, input_tokens: w.need.input_tpm, output_tokens: w.need.output_tpm, enqueued_ms: w.enqueuedMs, expires_ms: expiresMs })
      .onConflict((oc) =>
        oc.column('run_id').doUpdateSet({ model, owner: w.owner, input_tokens: w.need.input_tpm, output_tokens: w.need.output_tpm, expires_ms: expiresMs }),
      )
      .execute();
  }

  async dequeue(runId: string): Promise<void> {
    await this.db.deleteFrom('capacity_waiters').where('run_id', '=', runId).execute();
  }

  async lastServed(model: string): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('capacity_owner_turns').select(['owner', 'served_ms']).where('model', '=', model).execute();
    return new Map(rows.map((r) => [r.owner, Number(r.served_ms)]));
  }

  async markServed(model: string, owner: string, nowMs: number): Promise<void> {
    await this.db
      .insertInto('capacity_owner_turns')
      .values({ model, owner, served_ms: nowMs })
      .onConflict((oc) => oc.columns(['model', 'owner']).doUpdateSet({ served_ms: nowMs }))
      .execute();
  }

  /** Serialises budget checks of one owner across processes (Postgres; SQLite already serialises writers). */
  async lockOwner(owner: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`longhaul:budget:${owner}`}))`.execute(this.db);
  }

  async addReservation(r: Reservation): Promise<void> {
    const values = {
      key: r.key,
      run_id: r.runId,
      owner: r.owner,
      model: r.model,
      input_tokens: r.inputTokens,
      output_tokens: r.outputTokens,
      cost_usd: r.costUsd,
      expires_ms: r.expiresMs,
    };
    await this.db
      .insertInto('capacity_reservations')
      .values(values)
      .onConflict((oc) => oc.column('key').doUpdateSet(values))
      .execute();
  }

  /** Removes and returns a call's reservation (none: nothing was reserved, or it already settled). */
  async takeReservation(key: string): Promise<Reservation | undefined> {
    const row = await this.db.deleteFrom('capacity_reservations').where('key', '=', key).returningAll().executeTakeFirst();
    return row
      ? {
          key: row.key,
          runId: row.run_id,
          owner: row.owner,
          model: row.model,
          inputTokens: Number(row.input_tokens),
          outputTokens: Number(row.output_tokens),
          costUsd: Number(row.cost_usd),
          expiresMs: Number(row.expires_ms),
        }
      : undefined;
  }

  /** Tokens of `model`'s calls in flight (granted, not settled). */
  async reservedFor(model: string, nowMs: number): Promise<{ requests: number; inputTokens: number; outputTokens: number }> {
    const row = await this.db
      .selectFrom('capacity_reservations')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.coalesce(eb.fn.sum<number>('input_tokens'), sql<number>`0`).as('input'),
        eb.fn.coalesce(eb.fn.sum<number>('output_tokens'), sql<number>`0`).as('output'),
      ])
      .where('model', '=', model)
      .where('expires_ms', '>=', nowMs)
      .executeTakeFirst();
    return { requests: Number(row?.n ?? 0), inputTokens: Number(row?.input ?? 0), outputTokens: Number(row?.output ?? 0) };
  }

  async countWaiting(model: string, nowMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('capacity_waiters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('model', '=', model)
      .where('expires_ms', '>=', nowMs)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async recordRateLimited(model: string, runId: string, nowMs: number): Promise<void> {
    await this.db.insertInto('rate_limit_hits').values({ model, run_id: runId, at_ms: nowMs }).execute();
  }

  async rateLimitedSince(model: string, sinceMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('rate_limit_hits')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('model', '=', model)
      .where('at_ms', '>=', sinceMs)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Models with books, or 429s since `sinceMs`: the ones `GET /api/capacity` reports besides the configured ones. */
  async knownModels(sinceMs: number): Promise<string[]> {
    const books = await this.db.selectFrom('capacity_books').select('model').execute();
    const hit = await this.db.selectFrom('rate_limit_hits').select('model').distinct().where('at_ms', '>=', sinceMs).execute();
    return [...new Set([...books, ...hit].map((r) => r.model))];
  }

  /** A run that ended waits for nothing and holds nothing. */
  async forgetRun(runId: string): Promise<void> {
    await this.db.deleteFrom('capacity_waiters').where('run_id', '=', runId).execute();
    await this.db.deleteFrom('capacity_reservations').where('run_id', '=', runId).execute();
  }
}
