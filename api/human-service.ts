/**
 * Decisions and answers from humans, however they arrive (API, web UI, Slack). Each is first
 * recorded in the database, the one authority (`approvals.settle`: exactly one decision wins, and
 * is audited), then signalled to the workflow. A signal needs no worker: a run waiting for a human can be
 * decided while every worker is down.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../shared/logger';
import type { Store } from '../shared/store';
import type { ApprovalRecord } from '../shared/store/approvals';
import { approvalDecisionSignal, userInputSignal } from '../contract/workflow-messages';
import { DECISION_OUTCOME, inputPreview, type Decision, type DecisionChannel } from '../contract/run';
import type { ApprovalView, InboxItem } from '../contract/api';
import type { Access } from './access';
import type { Principal } from '../contract/identity';
import { ApiError, notFound } from './errors';

export function approvalView(a: ApprovalRecord): ApprovalView {
  return {
    approvalId: a.id,
    runId: a.runId,
    kind: a.kind,
    tool: a.tool,
    input: a.input,
    risk: a.risk,
    reason: a.reason,
    status: a.status,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    decidedBy: a.decidedBy,
    channel: a.channel,
    comment: a.comment,
    decidedAt: a.decidedAt,
  };
}

export interface DecideRequest {
  runId: string;
  approvalId: string;
  /** Who decides; the audit names `caller.user`. */
  caller: Principal;
  decision: Decision;
  comment?: string;
  channel: DecisionChannel;
}

export class HumanService {
  constructor(private readonly deps: { store: Store; client: Client; access: Access; logger: Logger }) {}

  /**
   * Records a decision and signals it. Repeating one's own decision is harmless (and re-sends the
   * signal, in case the first one never reached Temporal); any other second decision is a 409.
   */
  async decide(req: DecideRequest): Promise<{ approval: ApprovalRecord; repeated: boolean }> {
    const { store, access } = this.deps;
    const user = req.caller.user;
    const run = await store.runs.get(req.runId);
    const found = await store.approvals.get(req.approvalId);
    const approval = found && run && found.runId === run.id ? found : undefined;
    const outcome = DECISION_OUTCOME[req.decision];
    const refuse = async (refusal: 'conflict' | 'forbidden') => {
      if (approval) await store.approvals.auditRefused(approval, { actor: user, channel: req.channel, outcome, refusal, comment: req.comment });
    };

    if (!run || !access.canSee(req.caller, run)) {
      await refuse('forbidden');
      throw notFound();
    }
    if (!approval) throw notFound('approval');
    if (!access.canDecide(req.caller, run)) {
      await refuse('forbidden');
      throw access.decideRefusal(req.caller);
    }
    if (approval.status === 'pending' && Date.parse(approval.expiresAt) <= Date.now()) {
      await refuse('conflict');
      throw new ApiError(409, 'approval_expired', 'this approval has expired; the call was rejected');
    }
    const { won, approval: after } = await store.approvals.settle(approval.id, { outcome, by: user, channel: req.channel, comment: req.comment });
    const repeated = !won && after.status === outcome && after.decidedBy === user;
    if (!won && !repeated) {
      await refuse('conflict');
      const code = after.status === 'expired' ? 'approval_expired' : 'approval_already_decided';
      throw new ApiError(409, code, after.status === 'expired' ? 'this approval has expired; the call was rejected' : `already ${after.status} by ${after.decidedBy}`);
    }
    await this.signal(run.id, () =>
      this.deps.client.workflow.getHandle(run.id).signal(approvalDecisionSignal, {
        approvalId: approval.id,
        decision: req.decision,
        by: user,
        channel: req.channel,
        comment: req.comment,
      }),
    );
    return { approval: after, repeated };
  }

  /** Audits a decision from someone who is not a Longhaul user (an unmapped Slack account). */
  async refuseUnknownUser(approvalId: string, actor: string, channel: DecisionChannel, decision: Decision): Promise<void> {
    const approval = await this.deps.store.approvals.get(approvalId);
    if (approval) await this.deps.store.approvals.auditRefused(approval, { actor, channel, outcome: DECISION_OUTCOME[decision], refusal: 'forbidden' });
  }

  /** Pending approvals the caller may decide: their teams' and (legacy APPROVERS) personal runs' for approvers, their own runs' otherwise. */
  async pendingFor(caller: Principal): Promise<ApprovalRecord[]> {
    const { store, access } = this.deps;
    const pending = access.decidesBeyondOwn(caller) ? await store.approvals.listPending() : await store.approvals.listPendingForOwner(caller.user);
    const visible: ApprovalRecord[] = [];
    for (const a of pending) {
      const run = await store.runs.get(a.runId);
      if (run && access.canDecide(caller, run)) visible.push(a);
    }
    return visible;
  }

  /** One approval, full input included, for anyone who may see its run; 404 otherwise. */
  async approval(caller: Principal, approvalId: string): Promise<ApprovalRecord> {
    const { store } = this.deps;
    const approval = await store.approvals.get(approvalId);
    const run = approval && (await store.runs.get(approval.runId));
    if (!approval || !run || !this.deps.access.canSee(caller, run)) throw notFound('approval');
    return approval;
  }

  /** What waits for the user, oldest first: approvals they may decide, and their runs' questions. */
  async inbox(caller: Principal): Promise<InboxItem[]> {
    const { store } = this.deps;
    const [approvals, questions] = await Promise.all([this.pendingFor(caller), store.inputs.listPendingForOwner(caller.user)]);
    const goals = new Map(questions.map((q) => [q.runId, q.goal]));
    for (const a of approvals) if (!goals.has(a.runId)) goals.set(a.runId, (await store.runs.get(a.runId))?.goal ?? '');
    const items: InboxItem[] = [
      ...approvals.map((a): InboxItem => ({ kind: 'approval', id: a.id, runId: a.runId, goal: goals.get(a.runId) ?? '', requestedAt: a.requestedAt, expiresAt: a.expiresAt, tool: a.tool, input: inputPreview(a.input), risk: a.risk, reason: a.reason })),
      ...questions.map((q): InboxItem => ({ kind: 'question', id: q.id, runId: q.runId, goal: q.goal, requestedAt: q.requestedAt, expiresAt: q.expiresAt, question: q.question })),
    ];
    return items.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  /** Whoever may steer the run answers the agent's open question. */
  async answer(req: { runId: string; caller: Principal; text: string }): Promise<{ requestId: string }> {
    const { store } = this.deps;
    const run = await store.runs.get(req.runId);
    this.deps.access.assertSteer(req.caller, run);
    const user = req.caller.user;
    const pending = await store.inputs.pendingForRun(run.id);
    if (!pending) throw new ApiError(409, 'no_pending_question', 'the run is not waiting for an answer');
    if (Date.parse(pending.expiresAt) <= Date.now()) throw new ApiError(409, 'question_expired', 'the question has expired');
    const { won } = await store.inputs.settle(pending.id, { status: 'answered', answer: req.text, by: user });
    if (!won) throw new ApiError(409, 'question_already_answered', 'the question was answered or expired meanwhile');
    await this.signal(run.id, () =>
      this.deps.client.workflow.getHandle(run.id).signal(userInputSignal, { requestId: pending.id, text: req.text, by: user }),
    );
    return { requestId: pending.id };
  }

  private async signal(runId: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      // The run has already ended (e.g. a repeated decision after it finished): nothing left to tell it.
      if (err instanceof WorkflowNotFoundError) return;
      // The decision is recorded either way; the workflow reads it when its timer fires, and the
      // same request repeated re-sends the signal.
      this.deps.logger.error({ err, runId }, 'could not signal the run');
      throw new ApiError(503, 'temporal_unavailable', 'the decision was recorded but the run could not be told yet; repeat the request to retry');
    }
  }
}
