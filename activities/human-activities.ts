/**
 * Bookkeeping for the waits where a human decides: approvals (tool calls, cost checkpoints,
 * interrupted effects) and `ask_user` questions. The workflow waits on a durable timer and a
 * signal between these calls — no activity, and so no worker, is busy while a human thinks.
 */
import type { ApprovalRecord } from '../shared/store/approvals';
import { DECISION_OUTCOME, inputPreview, type PendingApproval, type PendingInput, type Risk } from '../contract/run';
import type { ActivityDeps } from './deps';
import { createRunAgents } from './agents/run-agent';
import { toolCallHash } from './idempotency-keys';
import type { ToolResultContent } from './model/context-builder';
import type { AssistantBlock } from './model/model-adapter';
import { preview, publishEvents } from './publish';
import { eventKeys, messageKeys } from '../contract/keys';
import type { AttentionKind } from '../contract/events';
import type { SubagentOrigin } from '../contract/api';
import type { RequestApprovalArgs, RequestInputArgs, SettleApprovalArgs, SettledApproval, SettledInput, SettleInputArgs, Verdict } from '../contract/activity-io';
import type { Progress } from '../contract/run';
import type { Store } from '../shared/store';
import type { RunEvent } from '../contract/events';

/** Now, and `timeoutSec` from now, as ISO timestamps. */
function timeWindow(timeoutSec: number): { requestedAt: string; expiresAt: string } {
  const now = Date.now();
  return { requestedAt: new Date(now).toISOString(), expiresAt: new Date(now + timeoutSec * 1000).toISOString() };
}

export function toPending(a: ApprovalRecord): PendingApproval {
  return {
    approvalId: a.id,
    kind: a.kind,
    tool: a.tool,
    input: inputPreview(a.input),
    risk: a.risk,
    reason: a.reason,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
  };
}

/**
 * The run back in the state the workflow goes on in (running), in the transaction that settled what it waited for:
 * a decision's bookkeeping is one transaction, not two (a burst of decisions waits on the database for each).
 * When: the settling event's time, as a separate state change would have answered.
 */
async function resumedIn(tx: Store, runId: string, progress: Progress, events: RunEvent[]): Promise<string> {
  await tx.runs.updateState(runId, { status: progress.status, statusDetail: progress.statusDetail, progress, error: progress.error, ended: false });
  return events.at(-1)?.at ?? new Date().toISOString();
}

/** The run a direct message is about, as its owner knows it: their run, or a sub-agent's run of their run tree. */
function whoseRun(runId: string, origin: SubagentOrigin | null, start: 'upper' | 'lower' = 'upper'): string {
  const about = origin ? `the ${origin.agent ?? 'sub-agent'} sub-agent (run ${runId}) of your run ${origin.rootRunId}` : `your run ${runId}`;
  return start === 'upper' ? `${about[0]!.toUpperCase()}${about.slice(1)}` : about;
}

/** The audit's comment on a decision that reached the run without the API recording it. */
export const UNRECORDED_DECISION_REFUSED = 'refused: this decision reached the run without Longhaul recording it';

export function createHumanActivities(deps: ActivityDeps) {
  const { store, bus, notifier } = deps;
  const agents = createRunAgents(deps);

  /** A call's risk as the model call read it: by the run's agent version and this worker's code (a run of no agent: the worker's tools). */
  async function riskOf(runId: string, name: string, input: unknown): Promise<Risk> {
    const run = await store.runs.get(runId);
    return agents.riskOf(run ? await agents.of(run) : null, name, input);
  }

  async function toolCallOf(runId: string, turn: number, toolUseId: string) {
    const message = await store.messages.get(runId, messageKeys.assistant(turn));
    const block = (message?.content as AssistantBlock[] | undefined)?.find((b) => b.type === 'tool_use' && b.id === toolUseId);
    if (!block || block.type !== 'tool_use') throw new Error(`no tool call ${toolUseId} in turn ${turn} of run ${runId}`);
    return block;
  }

  /** Records the approval (idempotently: a retry finds the same row and the same times). */
  async function requestApproval(args: RequestApprovalArgs): Promise<PendingApproval> {
    let tool: string | null = null;
    let input: unknown = null;
    let inputHash: string | null = null;
    let risk: Risk | null = null;
    if (args.toolUseId) {
      const call = await toolCallOf(args.runId, args.turn, args.toolUseId);
      tool = call.name;
      input = call.input;
      inputHash = toolCallHash(call.name, call.input);
      // The executing worker's reading when it sent one: the human sees what the approval is checked against.
      risk = args.risk ?? (await riskOf(args.runId, call.name, call.input));
    }
    const approval = await store.approvals.insert({
      id: args.approvalId,
      runId: args.runId,
      kind: args.kind,
      turn: args.turn,
      toolUseId: args.toolUseId ?? null,
      tool,
      input,
      inputHash,
      risk,
      reason: args.reason,
      ...timeWindow(args.timeoutSec),
    });
    return toPending(approval);
  }

  /**
   * Posts the request where approvers are (Slack), once. `posted`: whether there is a message to update once it is
   * settled (the run skips the update when there is none).
   */
  async function announceApproval({ runId, approvalId }: { runId: string; approvalId: string }): Promise<{ posted: boolean }> {
    const approval = await store.approvals.get(approvalId);
    const run = await store.runs.get(runId);
    if (!approval || !run || approval.slack || approval.status !== 'pending') return { posted: !!approval?.slack };
    const origin = await store.tree.originOf(runId);
    const posted = await notifier.announce(approval, run, origin);
    if (posted) await store.approvals.setSlackMessage(approvalId, posted.channel, posted.ts);
    // Its owner was not watching when it began to wait (see run-activities' attention): tell them directly.
    if (await store.events.hasKey(runId, eventKeys.attention(approvalId))) {
      const what = approval.tool ? `approve ${approval.tool}` : approval.reason;
      await notifier.directMessage(run.owner, `${whoseRun(run.id, origin)} is waiting for you to ${what} (expires ${approval.expiresAt}). Open it to decide.`);
    }
    return { posted: !!posted };
  }

  /** A question its owner was not watching for: a direct message too (approvals get theirs in announceApproval). */
  async function announceQuestion({ runId, requestId }: { runId: string; requestId: string }): Promise<void> {
    const request = await store.inputs.get(requestId);
    const run = await store.runs.get(runId);
    if (!request || !run || request.status !== 'pending') return;
    if (await store.events.hasKey(runId, eventKeys.attention(requestId))) {
      await notifier.directMessage(run.owner, `${whoseRun(run.id, await store.tree.originOf(runId))} asks you: “${preview(request.question, 500)}” (expires ${request.expiresAt}). Open it to answer.`);
    }
  }

  /**
   * Half the request's time has passed and it is still open: remind its owner (attention.needed with
   * `reminder`, so webhooks carry it, and a Slack DM) — unless they are watching the run right now.
   */
  async function remind({ runId, requestId, kind }: { runId: string; requestId: string; kind: AttentionKind }): Promise<{ reminded: boolean }> {
    const run = await store.runs.get(runId);
    const open =
      kind === 'approval'
        ? await store.approvals.get(requestId).then((a) => (a?.status === 'pending' ? { expiresAt: a.expiresAt, what: a.tool ? `approve ${a.tool}` : a.reason } : null))
        : await store.inputs.get(requestId).then((q) => (q?.status === 'pending' ? { expiresAt: q.expiresAt, what: `answer “${preview(q.question, 200)}”` } : null));
    if (!run || !open || (await store.watchers.forRun(runId)).users.includes(run.owner)) return { reminded: false };
    const events = await store.events.append(runId, [
      { key: eventKeys.attentionReminder(requestId), type: 'attention.needed', data: { kind, requestId, owner: run.owner, expiresAt: open.expiresAt, reminder: true } },
    ]);
    publishEvents(bus, runId, events);
    if (events.length) await notifier.directMessage(run.owner, `Reminder: ${whoseRun(run.id, await store.tree.originOf(runId), 'lower')} still waits for you to ${open.what} (expires ${open.expiresAt}).`);
    return { reminded: events.length > 0 };
  }

  /**
   * Settles the approval with what the database holds — a person's decision, which only the API records (access and
   * expiry checked, audited) before it signals — or else with the workflow's own fail-closed word (its timer's expiry,
   * a cancelled run's withdrawal), and records the event. A person's decision the database does not hold came to the
   * workflow around the API (a signal sent with Temporal's own tools): it is refused as a rejection, never written as
   * that person's word, so no signal alone approves a call.
   */
  async function settleApproval({ runId, approvalId, proposed, resume }: SettleApprovalArgs): Promise<SettledApproval> {
    const own = proposed.channel === 'system' && proposed.decision !== 'approve';
    const written = own
      ? { outcome: DECISION_OUTCOME[proposed.decision] ?? 'rejected', by: proposed.by, channel: proposed.channel, comment: proposed.comment }
      : { outcome: 'rejected' as const, by: 'system', channel: 'system' as const, comment: UNRECORDED_DECISION_REFUSED };
    const { verdict, events } = await store.transaction(async (tx) => {
      // Through the same path as the API and Slack: a decision already in the database wins over this one.
      const { won, approval } = await tx.approvals.settle(approvalId, written);
      if (won && !own) deps.logger.warn({ runId, approvalId, decision: proposed.decision, channel: proposed.channel }, 'a decision the API never recorded reached the run: refused');
      const verdict: SettledApproval = {
        decision: approval.status as Verdict['decision'],
        by: approval.decidedBy,
        channel: approval.channel,
        comment: approval.comment,
      };
      const event =
        verdict.decision === 'expired'
          ? { key: eventKeys.approvalSettled(approvalId), type: 'approval.expired' as const, data: { approvalId, kind: approval.kind, tool: approval.tool } }
          : {
              key: eventKeys.approvalSettled(approvalId),
              type: 'approval.decided' as const,
              data: {
                approvalId,
                kind: approval.kind,
                tool: approval.tool,
                decision: verdict.decision,
                by: verdict.by,
                channel: verdict.channel,
                comment: verdict.comment,
                ...(approval.slackUser && { slackUser: approval.slackUser }),
              },
            };
      const events = await tx.events.append(runId, [event]);
      if (resume) verdict.resumedAt = await resumedIn(tx, runId, resume, events);
      return { verdict, events };
    });
    publishEvents(bus, runId, events);
    return verdict;
  }

  /** Edits the Slack message to show the outcome (decided anywhere, or expired). */
  async function updateAnnouncement({ runId, approvalId }: { runId: string; approvalId: string }): Promise<void> {
    const approval = await store.approvals.get(approvalId);
    const run = await store.runs.get(runId);
    if (approval?.slack && run) await notifier.update(approval, run, await store.tree.originOf(runId));
  }

  async function requestInput(args: RequestInputArgs): Promise<PendingInput> {
    const call = await toolCallOf(args.runId, args.turn, args.toolUseId);
    const question = typeof call.input.question === 'string' && call.input.question.trim() ? call.input.question : '(the agent asked an empty question)';
    const request = await store.inputs.insert({
      id: args.requestId,
      runId: args.runId,
      turn: args.turn,
      toolUseId: args.toolUseId,
      question,
      ...timeWindow(args.timeoutSec),
    });
    return { requestId: request.id, toolUseId: request.toolUseId, question: request.question, requestedAt: request.requestedAt, expiresAt: request.expiresAt };
  }

  /**
   * Settles a question with what the database holds — the answer, which only the API records (the caller may steer the
   * run; the question still open) before it signals — or else as expired, and hands the outcome to the model. An answer
   * the database does not hold came to the workflow around the API: it is not taken as the user's word.
   */
  async function settleInput(args: SettleInputArgs): Promise<SettledInput> {
    const { settled, events } = await store.transaction(async (tx) => {
      const { won, request } = await tx.inputs.settle(args.requestId, { status: 'expired' });
      if (won && args.answer) deps.logger.warn({ runId: args.runId, requestId: args.requestId }, 'an answer the API never recorded reached the run: refused');
      // The database decides: an answer that reached it before the timer fired still counts.
      const answered = request.status === 'answered';
      const result: ToolResultContent = answered
        ? { content: request.answer ?? '', isError: false }
        : { content: 'The user did not answer before the question expired. Carry on without an answer, or stop.', isError: true };
      await tx.messages.put({ runId: args.runId, key: messageKeys.toolResult(args.toolUseId), turn: args.turn, kind: 'tool_result', toolUseId: args.toolUseId, content: result });
      const events = await tx.events.append(args.runId, [
        answered
          ? { key: eventKeys.toolResult(args.toolUseId), type: 'input.received', data: { requestId: args.requestId, text: request.answer, by: request.answeredBy } }
          : { key: eventKeys.toolResult(args.toolUseId), type: 'input.expired', data: { requestId: args.requestId } },
      ]);
      return { settled: { answered, ...(args.resume && { resumedAt: await resumedIn(tx, args.runId, args.resume, events) }) }, events };
    });
    publishEvents(bus, args.runId, events);
    return settled;
  }

  return { requestApproval, announceApproval, announceQuestion, remind, settleApproval, updateAnnouncement, requestInput, settleInput };
}
