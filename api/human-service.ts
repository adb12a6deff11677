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
import type { RunRecord } from '../shared/store/runs';
import { approvalDecisionSignal, userInputSignal } from '../contract/workflow-messages';
import { DECISION_OUTCOME, inputPreview, type Decision, type DecisionChannel } from '../contract/run';
import type { ApprovalList, ApprovalView, Inbox, InboxItem, SubagentApproval, SubagentOrigin, SubagentQuestion } from '../contract/api';
import type { Access } from './access';
import type { Principal } from '../contract/identity';
import { ApiError, notFound } from './errors';
import { decodeInboxCursor, encodeInboxCursor } from './inbox-cursor';
import { KIND_RANK } from '../shared/store/run-scope';

/** `subagent`: which sub-agent asks, when the approval's run is a child run (see originsOf); null for a root run. */
export function approvalView(a: ApprovalRecord, subagent: SubagentOrigin | null): ApprovalView {
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
    subagent,
  };
}

/**
 * Which sub-agent each of these runs is (absent: a root run), each run looked up once; `known`: runs already read,
 * whose tree needs no look-up when they are roots (most runs waiting in an inbox are).
 */
async function originsOf(store: Store, runIds: string[], known?: Map<string, Pick<RunRecord, 'parentRunId'>>): Promise<Map<string, SubagentOrigin>> {
  const origins = new Map<string, SubagentOrigin>();
  for (const runId of new Set(runIds)) {
    const run = known?.get(runId);
    if (run && run.parentRunId === null) continue;
    const origin = await store.tree.originOf(runId);
    if (origin) origins.set(runId, origin);
  }
  return origins;
}

/**
 * What the live runs below `runId` in its tree wait for from a human, each labelled with the sub-agent that asks:
 * the approvals and questions a run's page shows beside its own (decided or answered there through this run's id).
 * The caller has checked the user may see the run.
 */
export async function pendingBelow(store: Store, runId: string): Promise<{ approvals: SubagentApproval[]; questions: SubagentQuestion[] }> {
  const below = await store.tree.descendantIds(runId, { live: true });
  if (below.length === 0) return { approvals: [], questions: [] };
  const [approvals, questions] = await Promise.all([store.approvals.listPending({ runIds: below }), store.inputs.listPendingOf(below)]);
  const origins = await originsOf(store, [...approvals.map((a) => a.runId), ...questions.map((q) => q.runId)]);
  return {
    approvals: approvals.flatMap((a) => {
      const subagent = origins.get(a.runId);
      if (!subagent) return [];
      return [{ approvalId: a.id, kind: a.kind, tool: a.tool, input: inputPreview(a.input), risk: a.risk, reason: a.reason, requestedAt: a.requestedAt, expiresAt: a.expiresAt, subagent }];
    }),
    questions: questions.flatMap((q) => {
      const subagent = origins.get(q.runId);
      if (!subagent) return [];
      return [{ requestId: q.id, toolUseId: q.toolUseId, question: q.question, requestedAt: q.requestedAt, expiresAt: q.expiresAt, subagent }];
    }),
  };
}

export interface DecideRequest {
  /** The run the decision is addressed to: the approval's own, or any run above it in its tree (a parent's page). */
  runId: string;
  approvalId: string;
  /** Who decides; the audit names `caller.user`. */
  caller: Principal;
  decision: Decision;
  comment?: string;
  channel: DecisionChannel;
  /** Decided in Slack: the Slack account that clicked, audited beside `user`. */
  slackUser?: string;
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
    const addressed = await store.runs.get(req.runId);
    const found = await store.approvals.get(req.approvalId);
    const approval = found && addressed && (await this.isInTree(addressed.id, found.runId)) ? found : undefined;
    // The run that asks, which the decision resumes: the addressed run, or the sub-agent's run below it.
    const run = approval && approval.runId !== addressed?.id ? await store.runs.get(approval.runId) : addressed;
    const outcome = DECISION_OUTCOME[req.decision];
    const refuse = async (refusal: 'conflict' | 'forbidden') => {
      if (approval) await store.approvals.auditRefused(approval, { actor: user, channel: req.channel, outcome, refusal, comment: req.comment, slackUser: req.slackUser });
    };

    if (!addressed || !run || !access.canSee(req.caller, addressed) || !access.canSee(req.caller, run)) {
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
    const { won, approval: after } = await store.approvals.settle(approval.id, { outcome, by: user, channel: req.channel, comment: req.comment, slackUser: req.slackUser });
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

  /** Whether a request of run `ownerRunId` may be settled through run `addressedId`: its own, or one above it. */
  private async isInTree(addressedId: string, ownerRunId: string): Promise<boolean> {
    return ownerRunId === addressedId || this.deps.store.tree.isAncestor(addressedId, ownerRunId);
  }

  /** Audits a decision from someone who is not a Longhaul user (an unmapped Slack account). */
  async refuseUnknownUser(approvalId: string, actor: string, channel: DecisionChannel, decision: Decision): Promise<void> {
    const approval = await this.deps.store.approvals.get(approvalId);
    if (approval) await this.deps.store.approvals.auditRefused(approval, { actor, channel, outcome: DECISION_OUTCOME[decision], refusal: 'forbidden' });
  }

  /**
   * The pending approvals the caller may decide, oldest first, a page at a time, each labelled with the sub-agent that
   * asks: read as the inbox reads its approvals (the store's page, in the inbox's order, under canDecide as SQL, each
   * checked again here), so the work is the page's however many wait (issue 26: ten thousand runs parked), and the
   * cursor is the inbox's.
   */
  async pendingViewsFor(caller: Principal, page: { limit: number; cursor?: string }): Promise<ApprovalList> {
    const { store, access } = this.deps;
    const decide = access.decideScope(caller);
    if (!decide) return { approvals: [], nextCursor: null };
    const after = page.cursor === undefined ? undefined : decodeInboxCursor(page.cursor);
    // One more than the page: whether anything follows it.
    const read = await store.approvals.pendingPageIn(decide, { after, limit: page.limit + 1 });
    const rows = read.slice(0, page.limit);
    const last = rows[rows.length - 1];
    // Fail closed: the store's scope is canDecide as SQL; each approval is checked against it again here.
    const allowed = rows.filter((a) => access.canDecide(caller, a.run));
    const origins = await originsOf(store, allowed.map((a) => a.runId), new Map(allowed.map((a) => [a.runId, a.run])));
    return {
      approvals: allowed.map((a) => approvalView(a, origins.get(a.runId) ?? null)),
      nextCursor: read.length > page.limit && last ? encodeInboxCursor({ requestedAt: last.requestedAt, kind: 'approval', id: last.id }) : null,
    };
  }

  /** One approval as the API shows it, labelled with the sub-agent that asks when its run is a child run. */
  async viewOf(approval: ApprovalRecord): Promise<ApprovalView> {
    return approvalView(approval, (await this.deps.store.tree.originOf(approval.runId)) ?? null);
  }

  /** The run an approval belongs to, for a decision by approval id; 404 (as for an unknown one) if the user cannot see it. */
  async runOfApproval(caller: Principal, approvalId: string): Promise<string> {
    return (await this.approval(caller, approvalId)).runId;
  }

  /** One approval, full input included, for anyone who may see its run; 404 otherwise. */
  async approval(caller: Principal, approvalId: string): Promise<ApprovalRecord> {
    const { store } = this.deps;
    const approval = await store.approvals.get(approvalId);
    const run = approval && (await store.runs.get(approval.runId));
    if (!approval || !run || !this.deps.access.canSee(caller, run)) throw notFound('approval');
    return approval;
  }

  /**
   * What waits for the user, oldest first, a page at a time: approvals they may decide, and the questions of runs
   * they may steer (answer). The store reads the page in the order and under the access rule the inbox shows
   * (issue 26: the work is the page's, however much waits); `total` is everything that waits for the caller.
   */
  async inbox(caller: Principal, page: { limit: number; cursor?: string }): Promise<Inbox> {
    const { store, access } = this.deps;
    const after = page.cursor === undefined ? undefined : decodeInboxCursor(page.cursor);
    const decide = access.decideScope(caller);
    const steer = access.steerScope(caller);
    // One more than the page of each kind: whether anything follows it.
    const read = { after, limit: page.limit + 1 };
    const [approvals, questions, approvalCount, questionCount] = await Promise.all([
      decide ? store.approvals.pendingPageIn(decide, read) : [],
      steer ? store.inputs.pendingPageIn(steer, read) : [],
      decide ? store.approvals.countPendingIn(decide) : 0,
      steer ? store.inputs.countPendingIn(steer) : 0,
    ]);
    // By time, then kind; within a kind each list keeps the store's order, ties by id as the database collates them,
    // which the cursor's next page compares with (a sort by id here could disagree with a non-C collation).
    const merged = [
      ...approvals.map((a) => ({ key: { requestedAt: a.requestedAt, kind: 'approval' as const, id: a.id }, approval: a, question: undefined })),
      ...questions.map((q) => ({ key: { requestedAt: q.requestedAt, kind: 'question' as const, id: q.id }, approval: undefined, question: q })),
    ].sort((a, b) => (a.key.requestedAt === b.key.requestedAt ? KIND_RANK[a.key.kind] - KIND_RANK[b.key.kind] : a.key.requestedAt < b.key.requestedAt ? -1 : 1));
    const rows = merged.slice(0, page.limit);
    const last = rows[rows.length - 1];
    // Fail closed: the store's scope is canDecide and canSteer as SQL; each item is checked against them again here.
    const allowed = rows.filter((r) => (r.approval ? access.canDecide(caller, r.approval.run) : access.canSteer(caller, r.question!.run)));
    const waiting = allowed.map((r) => r.approval ?? r.question!);
    const origins = await originsOf(store, waiting.map((x) => x.runId), new Map(waiting.map((x) => [x.runId, x.run])));
    const items = allowed.map((r): InboxItem => {
      const x = r.approval ?? r.question!;
      const common = { id: x.id, runId: x.runId, goal: x.run.goal, requestedAt: x.requestedAt, expiresAt: x.expiresAt, subagent: origins.get(x.runId) ?? null };
      return r.approval
        ? { kind: 'approval', ...common, tool: r.approval.tool, input: inputPreview(r.approval.input), risk: r.approval.risk, reason: r.approval.reason }
        : { kind: 'question', ...common, question: r.question!.question };
    });
    return { items, nextCursor: merged.length > page.limit && last ? encodeInboxCursor(last.key) : null, total: approvalCount + questionCount };
  }

  /**
   * Whoever may steer the run answers an open question: the run's own, or (`requestId`) one of a run below it in
   * its tree, which the answer resumes.
   */
  async answer(req: { runId: string; caller: Principal; text: string; requestId?: string }): Promise<{ requestId: string }> {
    const { store } = this.deps;
    const addressed = await store.runs.get(req.runId);
    this.deps.access.assertSteer(req.caller, addressed);
    const user = req.caller.user;
    const pending = req.requestId ? await this.openQuestionIn(addressed.id, req.requestId) : await store.inputs.pendingForRun(addressed.id);
    if (!pending) throw new ApiError(409, 'no_pending_question', 'the run is not waiting for an answer');
    const run = pending.runId === addressed.id ? addressed : await store.runs.get(pending.runId);
    this.deps.access.assertSteer(req.caller, run);
    if (Date.parse(pending.expiresAt) <= Date.now()) throw new ApiError(409, 'question_expired', 'the question has expired');
    const { won } = await store.inputs.settle(pending.id, { status: 'answered', answer: req.text, by: user });
    if (!won) throw new ApiError(409, 'question_already_answered', 'the question was answered or expired meanwhile');
    await this.signal(run.id, () =>
      this.deps.client.workflow.getHandle(run.id).signal(userInputSignal, { requestId: pending.id, text: req.text, by: user }),
    );
    return { requestId: pending.id };
  }

  /** The question `requestId` if it is still open and asked by run `runId` or a run below it; 404 if it is neither's. */
  private async openQuestionIn(runId: string, requestId: string) {
    const request = await this.deps.store.inputs.get(requestId);
    if (!request || !(await this.isInTree(runId, request.runId))) throw new ApiError(404, 'not_found', 'no such question on this run or a run below it');
    return request.status === 'pending' ? request : undefined;
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
