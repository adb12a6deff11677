/**
 * Approvals and their audit trail. The database is the one authority on a decision: `settle`, a
 * conditional update from `pending` plus its audit entry in one transaction, lets exactly one
 * decision win however many arrive at once (web, API, Slack, the workflow's expiry timer). Every
 * channel goes through it; the workflow then hears of the outcome by signal or reads it here.
 */
import type { ApprovalKind, ApprovalOutcome, ApprovalStatus, DecisionChannel, Risk } from '../../contract/run';
import { inTransaction, nowIso, parseJson, type Executor } from './executor';
import { afterInInbox, isEmptyScope, runInScope, SCOPED_RUN_COLUMNS, scopedRunOf, type InboxKey, type RunScope, type ScopedRun } from './run-scope';
import type { ApprovalsTable } from './schema';

export type { ApprovalStatus } from '../../contract/run';

export interface ApprovalRecord {
  id: string;
  runId: string;
  kind: ApprovalKind;
  turn: number;
  toolUseId: string | null;
  tool: string | null;
  input: unknown;
  inputHash: string | null;
  risk: Risk | null;
  reason: string;
  status: ApprovalStatus;
  requestedAt: string;
  expiresAt: string;
  decidedBy: string | null;
  channel: DecisionChannel | null;
  comment: string | null;
  decidedAt: string | null;
  slack: { channel: string; ts: string } | null;
  /** The Slack account that decided it, when it was decided in Slack (`decidedBy` is its Longhaul user). */
  slackUser?: string | null;
}

export interface NewApproval {
  id: string;
  runId: string;
  kind: ApprovalKind;
  turn: number;
  toolUseId?: string | null;
  tool?: string | null;
  input?: unknown;
  inputHash?: string | null;
  risk?: Risk | null;
  reason: string;
  requestedAt: string;
  expiresAt: string;
}

export interface AuditEntry {
  approvalId: string;
  runId: string;
  actor: string;
  channel: DecisionChannel;
  decision: string;
  outcome: 'accepted' | 'conflict' | 'forbidden' | 'expired';
  tool: string | null;
  inputHash: string | null;
  comment?: string | null;
  /** The Slack account behind `actor`, for decisions made in Slack. */
  slackUser?: string | null;
}

function toRecord(row: ApprovalsTable): ApprovalRecord {
  return {
    id: row.id,
    runId: row.run_id,
    kind: row.kind as ApprovalKind,
    turn: Number(row.turn),
    toolUseId: row.tool_use_id,
    tool: row.tool,
    input: parseJson<unknown>(row.input_json, null),
    inputHash: row.input_hash,
    risk: row.risk as Risk | null,
    reason: row.reason,
    status: row.status as ApprovalStatus,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    channel: row.channel as DecisionChannel | null,
    comment: row.comment,
    decidedAt: row.decided_at,
    slack: row.slack_channel && row.slack_ts ? { channel: row.slack_channel, ts: row.slack_ts } : null,
    slackUser: row.slack_user ?? null,
  };
}

export class ApprovalsRepo {
  constructor(private readonly db: Executor) {}

  /** Idempotent on id: a retried request activity finds the approval it created. */
  async insert(a: NewApproval): Promise<ApprovalRecord> {
    await this.db
      .insertInto('approvals')
      .values({
        id: a.id,
        run_id: a.runId,
        kind: a.kind,
        turn: a.turn,
        tool_use_id: a.toolUseId ?? null,
        tool: a.tool ?? null,
        input_json: a.input === undefined ? null : JSON.stringify(a.input),
        input_hash: a.inputHash ?? null,
        risk: a.risk ?? null,
        reason: a.reason,
        status: 'pending',
        requested_at: a.requestedAt,
        expires_at: a.expiresAt,
        decided_by: null,
        channel: null,
        comment: null,
        decided_at: null,
        slack_channel: null,
        slack_ts: null,
        used_at: null,
        slack_user: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return (await this.get(a.id))!;
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const row = await this.db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /**
   * The one decide-and-audit path. Records the outcome if the approval is still pending and audits
   * it in the same transaction; `won` says whether this one counted, `approval` is what holds now.
   */
  async settle(id: string, d: { outcome: ApprovalOutcome; by: string; channel: DecisionChannel; comment?: string | null; slackUser?: string | null }): Promise<{ won: boolean; approval: ApprovalRecord }> {
    return inTransaction(this.db, async (trx) => {
      const repo = new ApprovalsRepo(trx);
      const result = await trx
        .updateTable('approvals')
        .set({ status: d.outcome, decided_by: d.by, channel: d.channel, comment: d.comment ?? null, decided_at: nowIso(), slack_user: d.slackUser ?? null })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      const won = Number(result.numUpdatedRows) === 1;
      const approval = (await repo.get(id))!;
      if (won) {
        await repo.audit({
          approvalId: id,
          runId: approval.runId,
          actor: d.by,
          channel: d.channel,
          decision: d.outcome,
          outcome: d.outcome === 'expired' ? 'expired' : 'accepted',
          tool: approval.tool,
          inputHash: approval.inputHash,
          comment: d.comment,
          slackUser: d.slackUser,
        });
      }
      return { won, approval };
    });
  }

  /** Audits a decision that did not count (the decider may not decide, or came too late). */
  async auditRefused(approval: ApprovalRecord, d: { actor: string; channel: DecisionChannel; outcome: ApprovalOutcome; refusal: 'conflict' | 'forbidden'; comment?: string | null; slackUser?: string | null }): Promise<void> {
    await this.audit({
      approvalId: approval.id,
      runId: approval.runId,
      actor: d.actor,
      channel: d.channel,
      decision: d.outcome,
      outcome: d.refusal,
      tool: approval.tool,
      inputHash: approval.inputHash,
      comment: d.comment,
      slackUser: d.slackUser,
    });
  }

  /** The approved decisions about one tool call of a run (what the worker about to run it checks). */
  async approvedForToolCall(runId: string, toolUseId: string): Promise<ApprovalRecord[]> {
    const rows = await this.db
      .selectFrom('approvals')
      .selectAll()
      .where('run_id', '=', runId)
      .where('status', '=', 'approved')
      .where('tool_use_id', '=', toolUseId)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Spends an approved decision, once: a conditional update from unused, so of any number of attempts
   * holding the same approval exactly one gets `true`. For a re-run of a call in doubt, which one human
   * word permits once (an attempt cut off again is in doubt again, and asks again).
   */
  async use(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('approvals')
      .set({ used_at: nowIso() })
      .where('id', '=', id)
      .where('status', '=', 'approved')
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listPending(opts: { runIds?: string[] } = {}): Promise<ApprovalRecord[]> {
    let q = this.db.selectFrom('approvals').selectAll().where('status', '=', 'pending');
    if (opts.runIds) {
      if (opts.runIds.length === 0) return [];
      q = q.where('run_id', 'in', opts.runIds);
    }
    return (await q.orderBy('requested_at', 'asc').execute()).map(toRecord);
  }

  /**
   * One page of the approvals pending on runs in `scope`, in the inbox's order (requested_at, id), after `after`:
   * the inbox's page read by the approvals_pending_order index, whatever else waits (issue 26). Each comes with
   * what the inbox shows and checks of its run.
   */
  async pendingPageIn(scope: RunScope, opts: { after?: InboxKey; limit: number }): Promise<(ApprovalRecord & { run: ScopedRun })[]> {
    if (isEmptyScope(scope)) return [];
    let q = this.db
      .selectFrom('approvals')
      .innerJoin('runs', 'runs.id', 'approvals.run_id')
      .selectAll('approvals')
      .select(SCOPED_RUN_COLUMNS)
      .where('approvals.status', '=', 'pending')
      .where(runInScope(scope));
    if (opts.after) q = q.where(afterInInbox('approvals', 'approval', opts.after));
    const rows = await q.orderBy('approvals.requested_at', 'asc').orderBy('approvals.id', 'asc').limit(opts.limit).execute();
    return rows.map((row) => ({ ...toRecord(row), run: scopedRunOf(row) }));
  }

  /** How many approvals are pending on runs in `scope` (the inbox's total). */
  async countPendingIn(scope: RunScope): Promise<number> {
    if (isEmptyScope(scope)) return 0;
    const row = await this.db
      .selectFrom('approvals')
      .innerJoin('runs', 'runs.id', 'approvals.run_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('approvals.status', '=', 'pending')
      .where(runInScope(scope))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** How many approvals wait, and since when the oldest has: for /metrics. */
  async pendingStats(): Promise<{ count: number; oldestRequestedAt: string | null }> {
    const row = await this.db
      .selectFrom('approvals')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min<string>('requested_at').as('oldest')])
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return { count: Number(row?.n ?? 0), oldestRequestedAt: row?.oldest ?? null };
  }

  async setSlackMessage(id: string, channel: string, ts: string): Promise<void> {
    await this.db.updateTable('approvals').set({ slack_channel: channel, slack_ts: ts }).where('id', '=', id).execute();
  }

  private async audit(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('approval_audit')
      .values({
        approval_id: e.approvalId,
        run_id: e.runId,
        actor: e.actor,
        channel: e.channel,
        decision: e.decision,
        outcome: e.outcome,
        tool: e.tool,
        input_hash: e.inputHash,
        comment: e.comment ?? null,
        at: nowIso(),
        slack_user: e.slackUser ?? null,
      })
      .execute();
  }

  async auditTrail(approvalId: string) {
    return this.db.selectFrom('approval_audit').selectAll().where('approval_id', '=', approvalId).orderBy('id', 'asc').execute();
  }
}
