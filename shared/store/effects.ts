/**
 * The effects ledger: one row per side effect or paid model call, keyed by the idempotency key
 * the workflow derived from stable data. `started` without `completed` means a worker died
 * mid-effect and nobody knows whether it happened. Beside it, how many of the attempts ended in a live worker that
 * knew they failed (`attempts_failed`): an in-doubt entry with fewer such ends than attempts had one vanish with its
 * process, perhaps killed by the effect itself, and the tool activity runs its next attempt apart (a sandbox).
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { nowIso, parseJson, type Executor } from './executor';

export type EffectKind = 'model' | 'tool';

/** What a ledger entry is of: its run, and the effect (a model's or a tool's name). */
export interface EffectEntry {
  runId: string;
  kind: EffectKind;
  name: string;
}

export type LedgerEntry =
  | { state: 'new' }
  /**
   * `attempts`: the attempts begun before this one. `attemptsFailed`: how many of them ended in their worker with a
   * known failure and said so (`attemptFailed`); fewer than `attempts`: one vanished (its process died, or it was
   * lost with no word). Either way the effect may or may not have happened.
   */
  | { state: 'in_doubt'; attempts: number; attemptsFailed: number }
  | { state: 'completed'; result: unknown };

export class EffectsRepo {
  constructor(private readonly db: Executor) {}

  /**
   * Records that an attempt is starting and reports what earlier attempts left behind:
   * nothing (`new`), a start without completion (`in_doubt`), or a stored result (`completed`).
   */
  async begin(key: string, entry: EffectEntry): Promise<LedgerEntry> {
    // Written as SQL, not built (as `complete`): a step begins and completes two entries, and Kysely's builder took
    // longer to assemble these than the database took to run them.
    const { rows } = await EffectsRepo.beginStatement(key, entry, sql<SqlBool>`true`).execute(this.db);
    const inserted = rows[0];
    if (inserted) return { state: 'new' };

    const row = await this.db.selectFrom('effects').select(['status', 'attempts', 'attempts_failed', 'result_json']).where('key', '=', key).executeTakeFirstOrThrow();
    if (row.status === 'completed') return { state: 'completed', result: parseJson<unknown>(row.result_json, null) };
    await this.db
      .updateTable('effects')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('key', '=', key)
      .execute();
    return { state: 'in_doubt', attempts: Number(row.attempts), attemptsFailed: Number(row.attempts_failed) };
  }

  /** `begin`'s first statement: the entry started, where `onlyIf` holds and none was begun before (see MessagesRepo.putStatement). */
  static beginStatement(key: string, entry: EffectEntry, onlyIf: RawBuilder<SqlBool>): RawBuilder<{ key: string }> {
    return sql<{ key: string }>`insert into "effects" ("key", "run_id", "kind", "name", "status", "attempts", "result_json", "started_at", "completed_at")
      select ${key}, ${entry.runId}, ${entry.kind}, ${entry.name}, 'started', 1, null, ${nowIso()}, null where ${onlyIf}
      on conflict ("key") do nothing returning "key"`;
  }

  /**
   * Records that attempt `attempt` (1 for the one `begin` found `new`, `attempts + 1` for one it found in doubt)
   * ended in its worker with a known failure, and that `attemptsFailed` of the attempts so far did (this one
   * included). Written only while that attempt is still the latest and the effect not completed: a late word from
   * an attempt another has overtaken changes nothing, and its entry stays suspect (fail closed).
   */
  async attemptFailed(key: string, attempt: number, attemptsFailed: number): Promise<void> {
    await sql`update "effects" set "attempts_failed" = ${attemptsFailed} where "key" = ${key} and "attempts" = ${attempt} and "status" = 'started'`.execute(this.db);
  }

  async complete(key: string, result: unknown): Promise<void> {
    await EffectsRepo.completeStatement(key, result, sql<SqlBool>`true`).execute(this.db);
  }

  /**
   * Completes the entry unless another attempt completed it first; true when this one did. Two live attempts of one
   * call may both end (the first outlived its heartbeat deadline and Temporal started another): the entry is the
   * first's, and its result is not overwritten. On Postgres the second waits on the first's row lock and then finds it
   * completed.
   */
  async completeFirst(key: string, result: unknown): Promise<boolean> {
    const { rows } = await sql<{ key: string }>`${EffectsRepo.completeStatement(key, result, sql<SqlBool>`"status" <> 'completed'`)} returning "key"`.execute(this.db);
    return rows.length > 0;
  }

  /** `complete`'s statement, written only where `onlyIf` holds (see MessagesRepo.putStatement). */
  static completeStatement(key: string, result: unknown, onlyIf: RawBuilder<SqlBool>): RawBuilder<unknown> {
    return sql`update "effects" set "status" = 'completed', "result_json" = ${JSON.stringify(result)}, "completed_at" = ${nowIso()} where "key" = ${key} and ${onlyIf}`;
  }

  async get(key: string): Promise<{ status: string; attempts: number; result: unknown } | undefined> {
    const row = await this.db.selectFrom('effects').select(['status', 'attempts', 'result_json']).where('key', '=', key).executeTakeFirst();
    return row ? { status: row.status, attempts: Number(row.attempts), result: parseJson<unknown>(row.result_json, null) } : undefined;
  }
}
