/** Questions the agent asked its user (the `ask_user` tool); answered once, or expired. */
import { nowIso, type Executor } from './executor';
import { afterInInbox, isEmptyScope, runInScope, SCOPED_RUN_COLUMNS, scopedRunOf, type InboxKey, type RunScope, type ScopedRun } from './run-scope';
import type { InputRequestsTable } from './schema';

export type InputStatus = 'pending' | 'answered' | 'expired';

export interface InputRequestRecord {
  id: string;
  runId: string;
  turn: number;
  toolUseId: string;
  question: string;
  status: InputStatus;
  answer: string | null;
  answeredBy: string | null;
  requestedAt: string;
  expiresAt: string;
  answeredAt: string | null;
}

function toRecord(row: InputRequestsTable): InputRequestRecord {
  return {
    id: row.id,
    runId: row.run_id,
    turn: Number(row.turn),
    toolUseId: row.tool_use_id,
    question: row.question,
    status: row.status as InputStatus,
    answer: row.answer,
    answeredBy: row.answered_by,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    answeredAt: row.answered_at,
  };
}

export class InputRequestsRepo {
  constructor(private readonly db: Executor) {}

  async insert(r: Omit<InputRequestRecord, 'status' | 'answer' | 'answeredBy' | 'answeredAt'>): Promise<InputRequestRecord> {
    await this.db
      .insertInto('input_requests')
      .values({
        id: r.id,
        run_id: r.runId,
        turn: r.turn,
        tool_use_id: r.toolUseId,
        question: r.question,
        status: 'pending',
        answer: null,
        answered_by: null,
        requested_at: r.requestedAt,
        expires_at: r.expiresAt,
        answered_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return (await this.get(r.id))!;
  }

  async get(id: string): Promise<InputRequestRecord | undefined> {
    const row = await this.db.selectFrom('input_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async pendingForRun(runId: string): Promise<InputRequestRecord | undefined> {
    const row = await this.db
      .selectFrom('input_requests')
      .selectAll()
      .where('run_id', '=', runId)
      .where('status', '=', 'pending')
      .orderBy('requested_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** Pending questions of these runs, oldest first (a run tree's, for its root's view). */
  async listPendingOf(runIds: string[]): Promise<InputRequestRecord[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('input_requests')
      .selectAll()
      .where('status', '=', 'pending')
      .where('run_id', 'in', runIds)
      .orderBy('requested_at', 'asc')
      .execute();
    return rows.map(toRecord);
  }

  /** How many questions wait for an answer, and since when the oldest has: for /metrics. */
  async pendingStats(): Promise<{ count: number; oldestRequestedAt: string | null }> {
    const row = await this.db
      .selectFrom('input_requests')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min<string>('requested_at').as('oldest')])
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return { count: Number(row?.n ?? 0), oldestRequestedAt: row?.oldest ?? null };
  }

  /**
   * One page of the questions pending on runs in `scope`, in the inbox's order (requested_at, id), after `after`,
   * each with what the inbox shows and checks of its run (issue 26: a page, however many wait).
   */
  async pendingPageIn(scope: RunScope, opts: { after?: InboxKey; limit: number }): Promise<(InputRequestRecord & { run: ScopedRun })[]> {
    if (isEmptyScope(scope)) return [];
    let q = this.db
      .selectFrom('input_requests')
      .innerJoin('runs', 'runs.id', 'input_requests.run_id')
      .selectAll('input_requests')
      .select(SCOPED_RUN_COLUMNS)
      .where('input_requests.status', '=', 'pending')
      .where(runInScope(scope));
    if (opts.after) q = q.where(afterInInbox('input_requests', 'question', opts.after));
    const rows = await q.orderBy('input_requests.requested_at', 'asc').orderBy('input_requests.id', 'asc').limit(opts.limit).execute();
    return rows.map((row) => ({ ...toRecord(row), run: scopedRunOf(row) }));
  }

  /** How many questions are pending on runs in `scope` (the inbox's total). */
  async countPendingIn(scope: RunScope): Promise<number> {
    if (isEmptyScope(scope)) return 0;
    const row = await this.db
      .selectFrom('input_requests')
      .innerJoin('runs', 'runs.id', 'input_requests.run_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('input_requests.status', '=', 'pending')
      .where(runInScope(scope))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Settles a pending request (answer or expiry); `won` is false if it was already settled. */
  async settle(id: string, s: { status: 'answered' | 'expired'; answer?: string; by?: string }): Promise<{ won: boolean; request: InputRequestRecord }> {
    const result = await this.db
      .updateTable('input_requests')
      .set({ status: s.status, answer: s.answer ?? null, answered_by: s.by ?? null, answered_at: nowIso() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return { won: Number(result.numUpdatedRows) === 1, request: (await this.get(id))! };
  }
}
