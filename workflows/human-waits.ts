/**
 * The waits where a human decides. Each records what is asked (an activity), then waits on a
 * signal and a durable timer — no activity runs and no worker is held while a human thinks — and
 * fails closed: no answer in time counts as "no".
 */
import { CancellationScope, condition, patched, uuid4 } from '@temporalio/workflow';
import type { Verdict } from '../contract/activity-io';
import type { RunContext, Waiting } from './run-context';
import type { ApprovalKind, Risk, ToolCallRef } from '../contract/run';
import type { AttentionKind, EventDraft } from '../contract/events';
import { eventKeys } from '../contract/keys';

/** Reminders at half a request's expiry, and direct messages for questions too (2026-11-22). */
const REMINDERS_PATCH = 'attention-reminders';
/**
 * A decided approval's run goes on at once (2026-12-06): the approvers' announcement is updated beside what the
 * run does next — not at all when nothing was announced — instead of before it, and the run awaits the updates
 * still in flight before it ends (`announcementUpdates`), so an update's completion never races the run's own.
 * Histories recorded before keep the awaited update.
 */
const ANNOUNCEMENT_BESIDE_PATCH = 'announcement-update-beside-until-end';
/**
 * A decided approval or answered question puts the run back to running in the transaction that settles it (one
 * local activity and one transaction instead of two: 2026-12-06, for bursts of decisions). Histories recorded
 * before settle, then record the state.
 */
const SETTLE_RESUMES_PATCH = 'settle-resumes-run';

/** Each run's announcement updates in flight (keyed by its context: one per workflow execution). */
const updatesInFlight = new WeakMap<RunContext, Set<Promise<void>>>();

/**
 * The run's announcement updates still in flight, to await before it ends (completes, fails, hands off or is
 * cancelled); undefined when there are none, so a run that never had one (every history recorded before) awaits nothing.
 */
export function announcementUpdates(ctx: RunContext): Promise<unknown> | undefined {
  const inFlight = updatesInFlight.get(ctx);
  return inFlight?.size ? Promise.all(inFlight) : undefined;
}

/** Updates the announcement once it is made, unless nothing was posted (`posted: false`; older workers said nothing). */
function updateAnnouncementBeside(ctx: RunContext, approvalId: string, announced: Promise<{ posted: boolean } | void>): void {
  const { input, acts } = ctx;
  const inFlight = updatesInFlight.get(ctx) ?? new Set<Promise<void>>();
  updatesInFlight.set(ctx, inFlight);
  // A failed update is Slack's matter, never the run's. Not cancelled with the run: a cancel waits for it (it is
  // short and bounded by its retries) rather than ending while its completion is on the way.
  const update: Promise<void> = announced
    .then((a) => (a && !a.posted ? undefined : CancellationScope.nonCancellable(() => acts.notify.updateAnnouncement({ runId: input.runId, approvalId }))))
    .catch(() => undefined)
    .then(() => void inFlight.delete(update));
  inFlight.add(update);
}

/**
 * Waits until `answered()` or the request expires (or the run's time cap passes); says whether it
 * ended before the expiry. Halfway, a request still open reminds its owner (if they are not watching).
 */
async function waitForHuman(ctx: RunContext, answered: () => boolean, ask: { kind: AttentionKind; requestId: string }): Promise<boolean> {
  const { input, acts } = ctx;
  const done = () => answered() || ctx.deadlinePassed();
  const totalMs = input.approvalTimeoutSec * 1000;
  if (!patched(REMINDERS_PATCH)) return condition(done, `${input.approvalTimeoutSec}s`);
  const halfMs = Math.floor(totalMs / 2);
  if (await condition(done, halfMs)) return true;
  await acts.notify.remind({ runId: input.runId, ...ask }).catch(() => undefined);
  return condition(done, totalMs - halfMs);
}

export interface ApprovalRequest {
  kind: ApprovalKind;
  reason: string;
  toolUseId?: string;
  /** The call's risk as the worker that refused it read it (shown as is); absent, the request's recorder reads it. */
  risk?: Risk;
}

/** Asks for an approval and waits for the verdict: approved, rejected, or expired. */
export async function askApproval(ctx: RunContext, req: ApprovalRequest): Promise<Verdict> {
  const { input, run, acts } = ctx;
  const approvalId = `apr_${uuid4()}`;
  const pending = await acts.bookkeeping.requestApproval.executeWithOptions({ summary: `ask approval: ${req.kind}` }, [
    { runId: input.runId, approvalId, kind: req.kind, turn: run.turn, toolUseId: req.toolUseId, ...(req.risk && { risk: req.risk }), reason: req.reason, timeoutSec: input.approvalTimeoutSec },
  ]);
  run.pendingApprovals.set(approvalId, pending);
  const requested: EventDraft = {
    key: eventKeys.approvalRequested(approvalId),
    type: 'approval.requested',
    data: { approvalId, kind: pending.kind, tool: pending.tool, input: pending.input, risk: pending.risk, reason: pending.reason, expiresAt: pending.expiresAt },
  };
  await ctx.transition('waiting_approval', { waitingFor: 'human', detail: pending.tool ? `waiting for approval of ${pending.tool}` : pending.reason }, [requested]);
  // Announce where approvers are (Slack) while already waiting: a slow Slack never delays the wait.
  const announced = acts.notify.announceApproval({ runId: input.runId, approvalId }).catch(() => undefined);

  const signalled = await waitForHuman(ctx, () => run.decisionFor(approvalId) !== undefined, { kind: 'approval', requestId: approvalId });
  const decision = signalled ? run.decisionFor(approvalId) : undefined;
  const resumes = patched(SETTLE_RESUMES_PATCH);
  const { resumedAt, ...verdict } = await acts.bookkeeping.settleApproval.executeWithOptions({ summary: `settle approval ${decision?.decision ?? 'expire'}` }, [
    {
      runId: input.runId,
      approvalId,
      proposed: decision
        ? { decision: decision.decision, by: decision.by, channel: decision.channel, comment: decision.comment }
        : { decision: 'expire', by: 'system', channel: 'system' },
      ...(resumes && { resume: ctx.progressFor('running', null) }),
    },
  ]);
  if (resumedAt !== undefined) ctx.recorded('running', null, resumedAt);
  else await ctx.transition('running', null);
  run.settleApproval(approvalId);
  if (patched(ANNOUNCEMENT_BESIDE_PATCH)) {
    updateAnnouncementBeside(ctx, approvalId, announced);
    return verdict;
  }
  await announced;
  await acts.notify.updateAnnouncement({ runId: input.runId, approvalId }).catch(() => undefined);
  return verdict;
}

/** The model's `ask_user` call: wait for the owner's answer, which becomes the call's result. */
export async function askUser(ctx: RunContext, call: ToolCallRef): Promise<void> {
  const { input, run, acts } = ctx;
  const requestId = `inp_${uuid4()}`;
  const pending = await acts.bookkeeping.requestInput.executeWithOptions({ summary: 'ask the user' }, [
    { runId: input.runId, requestId, turn: run.turn, toolUseId: call.toolUseId, timeoutSec: input.approvalTimeoutSec },
  ]);
  run.pendingInput = pending;
  await ctx.transition('waiting_input', { waitingFor: 'human', detail: 'waiting for your answer' }, [
    { key: eventKeys.inputRequested(requestId), type: 'input.requested', data: { requestId, question: pending.question, expiresAt: pending.expiresAt } },
  ]);
  // An owner who is not watching hears of it in Slack too, as for approvals.
  const announced = patched(REMINDERS_PATCH) ? acts.notify.announceQuestion({ runId: input.runId, requestId }).catch(() => undefined) : undefined;
  await waitForHuman(ctx, () => run.hasInputAnswer(), { kind: 'question', requestId });
  await announced;
  const answer = run.currentInputAnswer();
  const { resumedAt } = await acts.bookkeeping.settleInput.executeWithOptions({ summary: answer ? 'user answered' : 'question expired' }, [
    {
      runId: input.runId,
      requestId,
      turn: run.turn,
      toolUseId: call.toolUseId,
      answer: answer ? { text: answer.text, by: answer.by } : null,
      ...(patched(SETTLE_RESUMES_PATCH) && { resume: ctx.progressFor('running', null) }),
    },
  ]);
  if (resumedAt !== undefined) ctx.recorded('running', null, resumedAt);
  else await ctx.transition('running', null);
  run.clearInput();
}

/**
 * Holds the run at a step boundary while it is paused, waiting for a human to resume it (`waiting`: what else
 * it waits for, and why, in words). `resumeAfterMs`: a pause that ends by itself (a spent daily budget, at the
 * next day), unless someone resumes it first.
 */
export async function waitWhilePaused(ctx: RunContext, waiting: Waiting | string = 'paused on request', events: EventDraft[] = [], resumeAfterMs?: number): Promise<void> {
  const { run } = ctx;
  if (!run.paused) return;
  const by = run.pausedBy ?? 'someone';
  const { waitingFor, detail } = typeof waiting === 'string' ? { waitingFor: 'human' as const, detail: waiting } : waiting;
  const pause = eventKeys.paused(run.segment, run.turn, run.pauseCount);
  const cause = run.pauseCause === null ? {} : { cause: run.pauseCause };
  await ctx.transition('paused', { waitingFor, detail }, [...events, { key: pause, type: 'run.paused', data: { turn: run.turn, by, reason: detail, ...cause } }]);
  // Only a resume signal naming this pause (sent by an API that saw it in the store) can have come first: no
  // recorded history carries one, so this changes nothing a recorded history replays.
  run.takeEarlyResume(pause);
  if (resumeAfterMs === undefined) await condition(() => !run.paused || ctx.deadlinePassed());
  else if (!(await condition(() => !run.paused || ctx.deadlinePassed(), Math.max(1, resumeAfterMs)))) run.requestResume('system');
  if (run.paused) return; // the time cap passed while paused; the caller's cap check ends the run
  await ctx.transition('running', null, [
    { key: eventKeys.resumed(run.segment, run.turn, run.pauseCount), type: 'run.resumed', data: { turn: run.turn, by: run.resumedBy ?? 'someone' } },
  ]);
}

/** Settles whatever a cancelled run was still waiting for, so no stale request outlives it. */
export async function withdrawPendingRequests(ctx: RunContext): Promise<void> {
  const { input, run, acts } = ctx;
  for (const approvalId of [...run.pendingApprovals.keys()]) {
    await acts.bookkeeping.settleApproval({
      runId: input.runId,
      approvalId,
      proposed: { decision: 'reject', by: 'system', channel: 'system', comment: 'the run was cancelled' },
    });
    run.settleApproval(approvalId);
    await acts.notify.updateAnnouncement({ runId: input.runId, approvalId }).catch(() => undefined);
  }
  const question = run.pendingInput;
  if (question) {
    await acts.bookkeeping.settleInput({ runId: input.runId, requestId: question.requestId, turn: run.turn, toolUseId: question.toolUseId, answer: null });
    run.clearInput();
  }
}
