/**
 * agentRunWorkflow: one durable agent run.
 *
 *   wait for a slot → [ model turn → each tool call (approved first if risky) ] … → end
 *
 * until the model answers without tools, a cap is reached, a human stops it, or someone cancels.
 * Long runs hand off to a fresh segment (continue-as-new) with a summary — the relay. Everything
 * large (goal, messages, tool output) lives in the database; this workflow carries counters, ids
 * and short previews, so its history grows by well under 2 KB per step whatever the context size.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Verdict } from '../contract/activity-io';
import { describeFailure, failureDetail, failureType, workerLostOnLastAttempt } from './failures';
import { installHandlers } from './handlers';
import { announcementUpdates, askApproval, askUser, waitWhilePaused, withdrawPendingRequests } from './human-waits';
import { callModelWhenAllowed, summarizeWhenAllowed } from './model-waits';
import { recordStep } from './step-metrics';
import { EXECUTOR_APPROVAL_PATCH, needsApproval } from './policy';
import { createRunContext, type RunContext } from './run-context';
import { capReached, checkpointDue, outputEnding, segmentFull, type Ending } from './run-rules';
import { deadlineAfter, isoToMs } from './time';
import { RecordedQuickSteps, runToolLocally, toolCallIsRecordedLocal } from './legacy-local-steps';
import { delegate, delegationsOf } from './delegation';
import { approvalRequiredReason, ASK_USER_TOOL, isDeferral, riskPhrase, SELF_PAUSED_BY, type RunError, type RunInput, type RunResult, type ToolCallRef, type ToolOutcome } from '../contract/run';
import type { RunToolArgs } from '../contract/activity-io';

/** Tool calls go to the worker holding the run's workspace (2026-11-22); older histories did not. */
const WORKSPACE_AFFINITY_PATCH = 'workspace-affinity';
import type { EventDraft } from '../contract/events';
import { asApprovalRequiredDetail, FailureType, type ApprovalRequiredDetail, type InDoubtCause } from '../contract/failures';
import { eventKeys } from '../contract/keys';

export async function agentRunWorkflow(input: RunInput): Promise<RunResult> {
  const ctx = createRunContext(input);
  installHandlers(ctx.run);
  const { run } = ctx;
  try {
    let deadlineMs: number;
    if (!input.carried) {
      await waitForSlot(ctx);
      await ctx.transition('running', null, [
        { key: eventKeys.started(), type: 'run.started', data: { model: input.model, limits: input.limits, approvals: input.approvals } },
      ]);
      run.startedAtMs = isoToMs(run.lastEventAt ?? '');
      deadlineMs = input.limits.maxDurationSec * 1000;
    } else if (input.carried.continued) {
      // A follow-up continues a run that had ended: a new lap, its own wall-clock budget.
      await waitForSlot(ctx);
      await ctx.transition('running', null);
      run.startedAtMs = isoToMs(run.lastEventAt ?? '');
      deadlineMs = run.limits.maxDurationSec * 1000;
    } else {
      deadlineMs = (run.startedAtMs ?? 0) + input.limits.maxDurationSec * 1000 - workflowInfo().runStartTime.getTime();
    }
    ctx.deadlinePassed = deadlineAfter(deadlineMs);

    for (;;) {
      const ending = await takeTurns(ctx);
      if (ending.kind === 'handoff') {
        await handOff(ctx);
        continue; // no summary: the time cap passed while it waited for budget, and the next cap check ends the run
      }
      const result = await finish(ctx, ending);
      if (result !== REOPENED) return result;
    }
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // the relay hand-off, not a failure
    if (isCancellation(err)) {
      // The only way a run is cancelled is an explicit request; record it although the scope is cancelled.
      await CancellationScope.nonCancellable(async () => {
        await withdrawPendingRequests(ctx);
        const updating = announcementUpdates(ctx); // see finish
        if (updating) await updating;
        await ctx.transition('cancelled', 'cancelled on request', [{ key: eventKeys.cancelled(run.lap), type: 'run.cancelled', data: { turn: run.turn } }], true);
        if (!input.parentRunId) await ctx.acts.bookkeeping.releaseRunSlot({ owner: input.owner });
      });
      throw err;
    }
    if (err instanceof ApplicationFailure && err.type === FailureType.RunFailed) throw err;
    return (await finish(ctx, { kind: 'failed', error: describeFailure(err) })) as RunResult; // a failure is never reopened
  }
}

/** `finish` found follow-ups waiting: the run did not end, it goes on. */
const REOPENED = Symbol('reopened');

/**
 * Turns until the run ends or hands off. One turn = one model call and the tool calls it asks for, each an
 * ordinary activity; between calls the run decides here, and only here, whether to go on (run-rules.ts).
 */
async function takeTurns(ctx: RunContext): Promise<Ending> {
  const { input, run } = ctx;
  let previousAnswerAt: string | null = null;
  const recorded = new RecordedQuickSteps(ctx); // replay-only
  for (;;) {
    // Replay-only: the answer a recorded quick step brought, taken as that code took it (what is checked
    // here, it had checked); a deferral is waited out as ever.
    const brought = recorded.takeAnswer();
    if (!brought) {
      if (run.paused) await waitWhilePaused(ctx); // checked here: an await costs each step a promise's stack trace
      if (run.followUpsWaiting) await takeFollowUps(ctx);
      const cap = capReached(ctx, run.turn);
      if (cap) return cap;
      if (segmentFull(ctx, run.segmentTurns)) {
        const segmentCap = await allowAnotherSegment(ctx);
        if (segmentCap) return segmentCap;
        return { kind: 'handoff' };
      }
    }

    const reply = brought && !isDeferral(brought) && run.waitingFor !== 'capacity' ? brought : await callModelWhenAllowed(ctx, brought);
    if (!reply) continue; // the time cap passed while it waited for budget, or the call was refused: the cap check above ends the run
    run.addAnswer(reply);
    run.lastModelTurn = run.turn;
    ctx.markProgress(reply.at);
    if (previousAnswerAt) recordStep(previousAnswerAt, reply.at, input.model);
    previousAnswerAt = reply.at;
    const due = checkpointDue(ctx);
    if (due) {
      const checkpoint = await passCostCheckpoint(ctx, due);
      if (checkpoint) return checkpoint;
    }
    // Agents with an output schema: the answer's final result decides (see outputEnding). `output` is new with
    // agents; recorded histories never carry it, so their commands are the same as before.
    const result = outputEnding(ctx, reply.output);
    if (result !== null && result !== 'next_turn') return result;
    if (result === null && (reply.stopReason !== 'tool_use' || reply.toolCalls.length === 0)) return { kind: 'completed' };

    // Replay-only: the first calls' outcomes, when a recorded quick step ran them. Live: none.
    if (recorded.startHere(reply)) await recorded.start(reply);
    const ran = recorded.toolsRun();
    for (const [i, outcome] of ran.entries()) {
      const loop = loopStopped(ctx, reply.toolCalls[i]!, outcome.isError);
      if (loop) return loop;
    }
    const rest = reply.toolCalls.slice(ran.length);
    // Sub-agents: delegations run as child runs after the answer's other calls, several at once (workflows/delegation.ts).
    const delegations = delegationsOf(rest);
    for (const call of rest) {
      if (delegations.includes(call)) continue;
      const loop = loopStopped(ctx, call, await performToolCall(ctx, call));
      if (loop) return loop;
    }
    if (delegations.length) {
      const failed = await delegate(ctx, delegations, (call, verdict) => recordSkipped(ctx, call, rejectionMessage(call.name, verdict)));
      for (const [i, call] of delegations.entries()) {
        const loop = loopStopped(ctx, call, failed[i]!);
        if (loop) return loop;
      }
      // The tree's spend as the children's endings left it (delegation.ts) may have passed a checkpoint: asked before the next call.
      const due = checkpointDue(ctx);
      const checkpoint = due && (await passCostCheckpoint(ctx, due));
      if (checkpoint) return checkpoint;
    }
    run.turn += 1;
    run.segmentTurns += 1;
  }
}

/** Notes a tool call's outcome; the ending when the same call has now failed too many times in a row. */
function loopStopped(ctx: RunContext, call: ToolCallRef, failed: boolean): Ending | null {
  const n = ctx.input.settings.loopDetectionThreshold;
  if (!ctx.run.noteToolCall(`${call.name}:${call.inputHash}`, failed, n)) return null;
  return { kind: 'limit', limit: 'loop', value: n, message: `stopped a loop: the same failing ${call.name} call ${n} times in a row` };
}

/** One tool call: asked of the user, approved if the policy says so, then run. Returns whether it failed. */
async function performToolCall(ctx: RunContext, call: ToolCallRef): Promise<boolean> {
  if (call.name === ASK_USER_TOOL) {
    await askUser(ctx, call);
    return false;
  }
  // A per-call policy is new with agents (a tool's approval override); recorded histories never carry one.
  if (needsApproval(call.policy ?? ctx.input.approvals, call.risk)) {
    const verdict = await askApproval(ctx, { kind: 'tool', toolUseId: call.toolUseId, reason: riskPhrase(call.name, call.risk) });
    if (verdict.decision !== 'approved') {
      await recordSkipped(ctx, call, rejectionMessage(call.name, verdict));
      return true;
    }
  }
  return runTool(ctx, call, false);
}

async function runTool(ctx: RunContext, call: ToolCallRef, rerunInDoubt: boolean): Promise<boolean> {
  const { input, run } = ctx;
  setCurrentDetails(`turn ${run.turn}: running ${call.name}`);
  try {
    const args = { runId: input.runId, turn: run.turn, toolUseId: call.toolUseId, rerunInDoubt };
    const outcome = await runToolWhereTheWorkspaceIs(ctx, call, `turn ${run.turn}: ${call.name}`, args);
    return outcome.isError;
  } catch (err) {
    if (failureType(err) === FailureType.ApprovalRequired && patched(EXECUTOR_APPROVAL_PATCH)) {
      return runOnceApproved(ctx, call, rerunInDoubt, asApprovalRequiredDetail(failureDetail(err)));
    }
    if (workerLostOnLastAttempt(err) && patched(TOOL_WORKER_LOST_PATCH)) throw toolWorkerLost(ctx, call);
    if (failureType(err) !== FailureType.EffectInDoubt) throw err;
    // The call stopped part-way (its worker stopped, or the system behind the tool went away) and cannot safely be re-sent: ask, don't guess.
    const cause: InDoubtCause = failureDetail(err) === 'tool_unavailable' ? 'tool_unavailable' : 'attempt_lost';
    const what = cause === 'tool_unavailable' ? `The system behind ${call.name} went away while the call was running` : `A worker stopped while ${call.name} was running`;
    const verdict = await askApproval(ctx, {
      kind: 'effect_in_doubt',
      toolUseId: call.toolUseId,
      reason: `${what}, so it may or may not have taken effect. Approve to run it again; reject to skip it.`,
    });
    if (verdict.decision === 'approved') return runTool(ctx, call, true);
    await recordSkipped(ctx, call, `${call.name} was interrupted and may or may not have taken effect; it was not run again (${verdict.decision}).${verdict.comment ? ` Their comment: ${verdict.comment}` : ''}`);
    return true;
  }
}

/**
 * A tool call whose worker was lost on its last attempt (2026-12-06): the run fails with a code saying so
 * (`tool_worker_lost`) rather than the general `activity_timeout`. Older histories ended with the latter.
 */
const TOOL_WORKER_LOST_PATCH = 'tool-worker-lost';

/** Ends the run: a tool that takes its worker down (crashes it, blocks it) is not given more workers. */
function toolWorkerLost(ctx: RunContext, call: ToolCallRef): ApplicationFailure {
  const { maxAttempts, heartbeatTimeoutSec } = ctx.input.settings;
  return ApplicationFailure.create({
    type: FailureType.ToolWorkerLost,
    nonRetryable: true,
    message: `${call.name} was given up after ${maxAttempts} attempts: its worker was lost while running it (no heartbeat for ${heartbeatTimeoutSec}s: the process died or stopped responding), so the run stopped rather than lose more workers to it`,
  });
}

/**
 * The worker about to run the call found that, by its own definition of the tool or the server's
 * minimum policy, it needs an approval the run did not ask for: ask now, then run it or record it skipped.
 * The human is shown that worker's risk and policy (`refusal`), not what the worker recording the request
 * would make of the call; a refusal from a worker that did not say (older) is asked about in general terms.
 */
async function runOnceApproved(ctx: RunContext, call: ToolCallRef, rerunInDoubt: boolean, refusal: ApprovalRequiredDetail | undefined): Promise<boolean> {
  const verdict = await askApproval(ctx, {
    kind: 'tool',
    toolUseId: call.toolUseId,
    ...(refusal
      ? {
          risk: refusal.risk,
          reason: `The worker that runs it found that ${approvalRequiredReason(call.name, refusal.risk, refusal.policy)} (its own definition of the tool; the stricter of the run's policy and the server's minimum).`,
        }
      : // Unknown is riskiest: not whatever the worker recording the request makes of the call.
        { risk: 'irreversible' as const, reason: `The worker that runs ${call.name} requires approval for this call (by its definition of the tool, or the server's minimum approval policy).` }),
  });
  if (verdict.decision === 'approved') return runTool(ctx, call, rerunInDoubt);
  await recordSkipped(ctx, call, rejectionMessage(call.name, verdict));
  return true;
}

/**
 * Sends a tool call, quick or not, to the worker holding the run's workspace, so the folder is restored
 * once, not at every step; if that worker does not pick it up in time (gone), to the shared queue, where
 * any worker restores the workspace from its durable copy. Runs recorded before this change keep
 * sending every call to the shared queue, and those recorded 2026-11-22 … 2026-12-05 ran a quick tool
 * in the workflow's own worker (replay-only).
 */
function runToolWhereTheWorkspaceIs(ctx: RunContext, call: ToolCallRef, summary: string, args: RunToolArgs): Promise<ToolOutcome> {
  const { run, acts } = ctx;
  // Not an async function: each promise made in the sandbox records a stack trace, and this runs every step.
  const noteWorker = (outcome: ToolOutcome): ToolOutcome => {
    if (outcome.worker) run.workspaceQueue = outcome.worker;
    return outcome;
  };
  if (toolCallIsRecordedLocal(ctx, call)) return runToolLocally(ctx, args).then(noteWorker);
  const queue = patched(WORKSPACE_AFFINITY_PATCH) ? run.workspaceQueue : undefined;
  if (!queue) return acts.tools.runTool.executeWithOptions({ summary }, [args]).then(noteWorker);
  return runToolOnWorker(ctx, queue, summary, args).then(noteWorker);
}

/** On the worker holding the workspace; on the shared queue if that worker does not pick the call up in time (gone). */
async function runToolOnWorker(ctx: RunContext, queue: string, summary: string, args: RunToolArgs): Promise<ToolOutcome> {
  const { run, acts } = ctx;
  try {
    return await acts.toolsOn(queue).runTool.executeWithOptions({ summary }, [args]);
  } catch (err) {
    if (!isScheduleToStartTimeout(err)) throw err;
    run.workspaceQueue = undefined; // its worker is gone
    return acts.tools.runTool.executeWithOptions({ summary }, [args]);
  }
}

function isScheduleToStartTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

function rejectionMessage(tool: string, verdict: Verdict): string {
  if (verdict.decision === 'expired') return `No one approved this ${tool} call before the approval expired, so it did not run.`;
  return `${verdict.by ?? 'A human'} rejected this ${tool} call, so it did not run.${verdict.comment ? ` Their comment: ${verdict.comment}` : ''}`;
}

async function recordSkipped(ctx: RunContext, call: ToolCallRef, message: string): Promise<void> {
  await ctx.acts.bookkeeping.recordToolResult({
    runId: ctx.input.runId,
    turn: ctx.run.turn,
    toolUseId: call.toolUseId,
    content: message,
    isError: true,
    eventType: 'tool.failed',
    eventData: { turn: ctx.run.turn, toolUseId: call.toolUseId, name: call.name, error: message, skipped: true },
  });
}

/** Follow-up messages join the conversation here, at a turn boundary, and may raise the caps. */
async function takeFollowUps(ctx: RunContext): Promise<void> {
  const { run, input, acts } = ctx;
  run.followUpsWaiting = false; // one arriving during the call below is taken in at the next boundary
  const { limits, at } = await acts.bookkeeping.acceptFollowUps({ runId: input.runId, turn: run.turn });
  if (!limits) return;
  const before = run.limits.maxDurationSec;
  run.raiseLimits(limits);
  if (run.limits.maxDurationSec !== before) ctx.deadlinePassed = deadlineAfter((run.startedAtMs ?? 0) + run.limits.maxDurationSec * 1000 - isoToMs(at));
}

/** Each time spend crosses a multiple of the checkpoint amount, a human must say "continue". */
async function passCostCheckpoint(ctx: RunContext, due: number): Promise<Ending | null> {
  const { run, input } = ctx;
  const step = input.settings.costCheckpointUsd;
  const mark = `$${(due * step).toFixed(2)}`;
  const verdict = await askApproval(ctx, {
    kind: 'cost_checkpoint',
    reason: `This run has spent $${run.countedCostUsd.toFixed(2)}${run.treeCostUsd > run.usage.costUsd ? " (its sub-agents' runs included)" : ''}, passing the ${mark} checkpoint. Approve to let it continue.`,
  });
  if (verdict.decision === 'approved') {
    run.costCheckpointsPassed = due;
    return null;
  }
  if (verdict.decision === 'rejected') return { kind: 'stopped', detail: `stopped at the ${mark} cost checkpoint by ${verdict.by ?? 'a human'}` };
  return { kind: 'failed', error: { code: 'approval_expired', message: `no one approved continuing past the ${mark} cost checkpoint` } };
}

/** At the segment cap the run pauses for a human instead of failing; resuming grants more segments. */
async function allowAnotherSegment(ctx: RunContext): Promise<Ending | null> {
  const { run, input } = ctx;
  const allowed = input.settings.maxSegments + run.extraSegments;
  if (run.segment + 1 < allowed) return null;
  run.requestPause(SELF_PAUSED_BY, 'segments');
  await waitWhilePaused(ctx, `reached the cap of ${allowed} segments; resume to continue`, [
    { key: eventKeys.limitExceeded('maxSegments', allowed, run.lap), type: 'limit.exceeded', data: { limit: 'maxSegments', value: allowed } },
  ]);
  if (run.paused) return capReached(ctx, run.turn); // the time cap passed while it waited
  run.extraSegments += input.settings.maxSegments;
  return null;
}

/**
 * Follow-ups signalled during a hand-off ride the relay (2026-12-07): the next segment takes them in at its first turn
 * boundary. Histories recorded before dropped them there, leaving them waiting until the run ended (a completed or
 * limit ending took them in; any other ending never did). Asked only at a hand-off with follow-ups waiting.
 */
const FOLLOW_UPS_ACROSS_RELAY_PATCH = 'follow-ups-across-relay';

/** The relay: summarise, then continue as a fresh execution with the same run id (continue-as-new throws). */
async function handOff(ctx: RunContext): Promise<void> {
  const { input, run } = ctx;
  const next = run.segment + 1;
  const summary = await summarizeWhenAllowed(ctx, next);
  if (!summary) return;
  const { summaryChars, usage } = summary;
  run.addUsage(usage);
  await ctx.transition('running', null, [{ key: eventKeys.handoff(next), type: 'run.handoff', data: { segment: next, summaryChars, turn: run.turn } }]);
  // Signals that arrived while summarising must be handled before this execution ends.
  await condition(allHandlersFinished);
  const updating = announcementUpdates(ctx); // see finish
  if (updating) await updating;
  // Read after the last await, so a follow-up signalled at any point of the hand-off goes with the state. One signalled
  // while this very task runs is covered too: the server refuses to continue as new past a signal the task has not
  // seen, and the task tried again runs the signal's handler before this code goes on.
  const followUps = !run.followUpsWaiting || patched(FOLLOW_UPS_ACROSS_RELAY_PATCH);
  return continueAsNew<typeof agentRunWorkflow>({ ...input, limits: run.limits, carried: run.carry({ followUps }) });
}

/**
 * Waits in `queued` until one of the owner's concurrency slots is free (first in, first out). A child run
 * (sub-agent) claims none: a run tree holds one slot, its root's, which the root keeps until it ends.
 */
async function waitForSlot(ctx: RunContext): Promise<void> {
  const { input, run, acts } = ctx;
  if (input.parentRunId) return; // only child runs carry it: recorded histories go on as before
  for (;;) {
    const slot = await acts.bookkeeping.claimRunSlot({ runId: input.runId, owner: input.owner, maxConcurrent: input.settings.maxConcurrentPerUser });
    if (slot.admitted) return;
    const detail = slot.ahead > 0 ? `queued behind ${slot.ahead} of your runs` : `waiting for one of your ${slot.active} running runs to finish`;
    if (detail !== run.statusDetail) await ctx.transition('queued', { waitingFor: 'slot', detail });
    run.admissionNudged = false;
    // A finishing run signals; the periodic re-check covers a signal lost to a crash.
    await condition(() => run.admissionNudged, '1 minute');
  }
}

/**
 * Ends the run — unless it ended completed or on a limit while follow-ups were waiting: then the
 * ending is not recorded and the run goes on in a new lap (`REOPENED`).
 */
async function finish(ctx: RunContext, ending: Exclude<Ending, { kind: 'handoff' }>): Promise<RunResult | typeof REOPENED> {
  const { run, input, acts } = ctx;
  const turns = run.turn;
  // A child run held no slot of its own (see waitForSlot).
  const release = async () => {
    if (!input.parentRunId) await acts.bookkeeping.releaseRunSlot({ owner: input.owner });
  };
  // Approvers' announcement updates still in flight (human-waits.ts) end first: ended with one in flight, the run's
  // completion would race the update's and the losing task be retried. None (all recorded histories): no await.
  const updating = announcementUpdates(ctx);
  if (updating) await updating;
  if (ending.kind === 'completed') {
    const ended = await ctx.transition('completed', null, [{ key: eventKeys.completed(run.lap), type: 'run.completed', data: { turns, usage: run.usage } }], true, true);
    if (ended.reopened) return reopen(ctx, ended.lap);
    await release();
    return { status: 'completed', turns, usage: run.usage, error: null };
  }
  if (ending.kind === 'stopped') {
    await ctx.transition('cancelled', ending.detail, [{ key: eventKeys.cancelled(run.lap), type: 'run.cancelled', data: { turn: turns, reason: ending.detail } }], true);
    await release();
    return { status: 'cancelled', turns, usage: run.usage, error: null };
  }
  const events: EventDraft[] = [];
  const error: RunError = ending.kind === 'limit' ? { code: 'limit_exceeded', message: ending.message } : ending.error;
  if (ending.kind === 'limit') {
    events.push({ key: eventKeys.limitExceeded(ending.limit, undefined, run.lap), type: 'limit.exceeded', data: { limit: ending.limit, value: ending.value } });
  }
  events.push({ key: eventKeys.failed(run.lap), type: 'run.failed', data: { error } });
  run.error = error;
  const ended = await ctx.transition('failed', error.message, events, true, ending.kind === 'limit');
  if (ended.reopened) {
    run.error = null;
    return reopen(ctx, ended.lap);
  }
  await release();
  // Fail the Temporal execution too, so Temporal's own UI and metrics agree with the run's status.
  throw ApplicationFailure.create({ message: error.message, type: FailureType.RunFailed, nonRetryable: true, details: [error] });
}

/** Goes on after an ending that follow-ups undid: a new lap, starting at a turn no model call has used. */
function reopen(ctx: RunContext, lap: number | undefined): typeof REOPENED {
  const { run } = ctx;
  run.lap = lap ?? run.lap + 1;
  run.followUpsWaiting = true;
  if (run.turn <= run.lastModelTurn) {
    run.turn = run.lastModelTurn + 1;
    run.segmentTurns += 1;
  }
  return REOPENED;
}
