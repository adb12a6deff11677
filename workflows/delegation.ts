/**
 * Delegation to sub-agents: an answer's calls of sub-agent tools each start a child run — the same run
 * workflow, as a Temporal child workflow on the child agent's task queue — and complete with its ending.
 *
 *   approvals (one by one, as for any call) → child runs, at most maxParallelChildren at once → each call's result
 *
 * The child run is recorded first by an activity keyed by the parent's call, whose id the child workflow
 * takes, so a retried or replayed parent never starts a second child. A child that fails or is cancelled is
 * a tool error to the parent's model; the parent goes on. Cancelling the parent cancels its children: they
 * are started in its scope (cancelled with it, waiting until each has recorded its own cancellation), and a
 * parent that closes any other way asks them to cancel (REQUEST_CANCEL) rather than terminating them, so every
 * child records its ending. An id already used (a parent reset to before the start) starts nothing new: the
 * call settles from the child run's own record. A paused parent starts no more children until it is resumed, and
 * takes its tree's spend from each child's ending, for its cost cap and checkpoint.
 */
import { CancellationScope, ChildWorkflowCancellationType, isCancellation, ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import type { SettleChildRunArgs, Verdict } from '../contract/activity-io';
import { needsApproval, riskPhrase, SUBAGENT_BOUNDS, type ToolCallRef } from '../contract/run';
import { OwnerAttribute, StatusAttribute } from '../contract/search-attributes';
import { RUN_WORKFLOW } from '../contract/workflow-messages';
import type { agentRunWorkflow } from './agent-run';
import { describeFailure } from './failures';
import { askApproval, waitWhilePaused } from './human-waits';
import type { RunContext } from './run-context';

/**
 * Calls of sub-agent tools start child runs (2026-12-06). Asked only when an answer carries a delegation, which
 * only agents with `subagents` give and no history recorded before this change holds: their commands are unchanged.
 */
export const SUBAGENTS_PATCH = 'subagents';

/**
 * An answer's delegations end only once every lane has ended (2026-12-06): a parent cancelled while its children
 * run records its own cancellation after each child has recorded theirs. Before it, the first lane to fail (the
 * first child's cancellation) ended them all at once, and the parent went on while the others still ended.
 * Asked once per answer with delegations approved; histories recorded before it keep the old way on replay.
 */
export const SETTLED_LANES_PATCH = 'subagents-settled-lanes';

/**
 * A parent cancelled between recording a child run and starting its workflow leaves no child `queued` (2026-12-06):
 * the child's record is made whole (never cancelled half-way, so a row it writes is known), a cancellation heard by
 * then starts no workflow, and the row ends `cancelled` through cancelUnstartedChild. Before it, the record could
 * be cancelled mid-write or the start skipped, and the row stayed `queued` with nothing to run it. Asked once per
 * delegation, before its record; histories recorded before it keep the old way on replay.
 */
export const UNSTARTED_CHILD_PATCH = 'subagents-unstarted-child-cancelled';

/**
 * A paused parent starts no more children (2026-12-06): a lane about to record a delegation not yet begun while the
 * run is paused holds there until it is resumed (or cancelled, or its time cap passes), the pause recorded as the
 * run's (`paused`, `run.paused`) — one hold for all its lanes — while children already running go on to their own
 * step boundaries (the API's tree pause pauses them). Before it, the lanes went on starting the queued children and
 * the pause was taken only at the next turn. Asked only when a lane finds the run paused; histories recorded before
 * keep the old way on replay.
 */
export const PAUSE_HOLDS_DELEGATIONS_PATCH = 'subagents-pause-holds-delegations';

/**
 * A parent takes its tree's spend from each child's ending (2026-12-06): the settle's answer carries it, so the
 * parent's cost cap and checkpoint count the child's spend before its next model call rather than after it. Asked
 * only when a settle's answer carries the spend, which no answer recorded before this change does.
 */
export const TREE_SPEND_AT_SETTLE_PATCH = 'subagents-tree-spend-at-settle';

/** Why a recorded child run never started: its parent, paused, reached its time cap first. */
const PAUSED_PAST_TIME_CAP = "not started: its parent's time limit passed while the parent was paused";

/** The pause hold each run's lanes share (keyed by its context: one per workflow execution). */
const pauseHolds = new WeakMap<RunContext, Promise<void>>();

/**
 * Holds while the run is paused: one wait (one `run.paused`, one `run.resumed`) however many lanes reach it, ended
 * by a resume, the run's time cap (the run is then still paused) or its cancellation (thrown to every lane).
 */
function holdWhilePaused(ctx: RunContext): Promise<void> {
  let hold = pauseHolds.get(ctx);
  if (!hold) {
    hold = waitWhilePaused(ctx).finally(() => pauseHolds.delete(ctx));
    pauseHolds.set(ctx, hold);
  }
  return hold;
}

/** Holds while the run is paused (holdWhilePaused); says whether it is still paused, its time cap passed. */
async function heldPastTimeCap(ctx: RunContext): Promise<boolean> {
  await holdWhilePaused(ctx);
  return ctx.run.paused;
}

/** The calls of an answer that delegate, as this history takes them (none in one recorded before sub-agents). */
export function delegationsOf(calls: ToolCallRef[]): ToolCallRef[] {
  if (!calls.some((c) => c.delegate)) return [];
  return patched(SUBAGENTS_PATCH) ? calls.filter((c) => c.delegate) : [];
}

/**
 * Runs an answer's delegations; says for each whether it failed. Each is approved first if the policy says so
 * (`rejected` records a call not approved), then they run as child runs, at most maxParallelChildren at once.
 */
export async function delegate(ctx: RunContext, calls: ToolCallRef[], rejected: (call: ToolCallRef, verdict: Verdict) => Promise<void>): Promise<boolean[]> {
  const failed = new Map<string, boolean>();
  const approved: ToolCallRef[] = [];
  for (const call of calls) {
    if (needsApproval(call.policy ?? ctx.input.approvals, call.risk)) {
      const verdict = await askApproval(ctx, { kind: 'tool', toolUseId: call.toolUseId, reason: `${riskPhrase(call.name, call.risk)}: a delegation to a sub-agent, which spends money` });
      if (verdict.decision !== 'approved') {
        await rejected(call, verdict);
        failed.set(call.toolUseId, true);
        continue;
      }
    }
    approved.push(call);
  }
  if (approved.length) {
    // The run's bound, frozen in its settings when it started; runs started before it was configurable carry none.
    const limit = ctx.input.settings.maxParallelChildren ?? SUBAGENT_BOUNDS.maxParallelChildren;
    const lanes = patched(SETTLED_LANES_PATCH) ? inTurnsSettled : inTurns;
    await lanes(approved, limit, async (call) => {
      failed.set(call.toolUseId, await runChild(ctx, call));
    });
  }
  return calls.map((c) => failed.get(c.toolUseId) ?? true);
}

/**
 * `work` on every item, at most `limit` at once, the rest waiting their turn in order. Deterministic. Replay-only
 * since SETTLED_LANES_PATCH: the first lane to fail fails it while the others still run.
 */
export async function inTurns<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * As inTurns, but a failure ends it only once every lane has ended: a lane that fails takes no more items, nor
 * do the others after it (items never begun stay so), and the first failure is thrown when all are done. So a
 * cancellation that reaches each running child waits until every one of them has ended. A failure that is not a
 * cancellation (an activity that gave up) cancels the other lanes' work, their children with it, so that the run
 * fails now rather than once every other child has finished for nothing; each child still records its ending.
 */
export async function inTurnsSettled<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const scope = new CancellationScope();
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      try {
        await work(items[next++]!);
      } catch (error) {
        if (failure) continue;
        failure = { error };
        if (!isCancellation(error)) scope.cancel();
      }
    }
  };
  await scope.run(() => Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane)));
  if (failure) throw failure.error;
}

/** One delegation: the child run recorded, started and awaited; its ending becomes the call's result. Returns whether it failed. */
async function runChild(ctx: RunContext, call: ToolCallRef): Promise<boolean> {
  const { input, run, acts } = ctx;
  const turn = run.turn;
  // The time cap passed while it was held: nothing delegated, and the turn's end stops the run on that cap.
  if (run.paused && patched(PAUSE_HOLDS_DELEGATIONS_PATCH) && (await heldPastTimeCap(ctx))) {
    return notDelegated(ctx, call, `Not delegated: the run's time limit passed while it was paused, before this ${call.name} sub-agent started.`);
  }
  const args = { parentRunId: input.runId, turn, toolUseId: call.toolUseId, approvalTimeoutSec: input.approvalTimeoutSec };
  const settlesUnstarted = patched(UNSTARTED_CHILD_PATCH);
  const scope = CancellationScope.current();
  // Cancelled before this delegation began: nothing recorded, nothing to start (as startChildRun, refused at once, did).
  if (settlesUnstarted && scope.consideredCancelled) await scope.cancelRequested;
  const started = settlesUnstarted ? await CancellationScope.nonCancellable(() => acts.bookkeeping.startChildRun(args)) : await acts.bookkeeping.startChildRun(args);
  if (started.refused !== undefined) return true; // recorded as the call's tool error (depth, count, input, approval)
  const { child } = started;
  const cancelUnstarted = (reason?: string) =>
    CancellationScope.nonCancellable(() =>
      acts.bookkeeping.cancelUnstartedChild({ parentRunId: input.runId, turn, toolUseId: call.toolUseId, childRunId: child.input.runId, agent: child.agent, ...(reason && { reason }) }),
    );
  if (settlesUnstarted && scope.consideredCancelled) {
    // Cancelled while the child run was being recorded: its workflow is never started, and its row ends cancelled.
    await cancelUnstarted();
    await scope.cancelRequested;
  }
  let ended: SettleChildRunArgs['ended'];
  let childStarted = false;
  try {
    // Paused while the child run was being recorded: its workflow waits for the resume too (a cancellation while
    // held ends its row as below); past the time cap, it never starts.
    if (run.paused && patched(PAUSE_HOLDS_DELEGATIONS_PATCH) && (await heldPastTimeCap(ctx))) {
      await cancelUnstarted(PAUSED_PAST_TIME_CAP);
      ended = { status: 'cancelled', message: PAUSED_PAST_TIME_CAP };
    } else {
      const handle = await startChild<typeof agentRunWorkflow>(RUN_WORKFLOW, {
        workflowId: child.input.runId,
        taskQueue: child.taskQueue,
        args: [child.input],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        // Never a second execution under the same id (a parent reset to before the start): the call then settles
        // from the child's own record, which holds its ending if it has one.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        typedSearchAttributes: [
          { key: StatusAttribute, value: 'queued' },
          { key: OwnerAttribute, value: input.owner },
        ],
        staticSummary: `Sub-agent ${child.agent} of run ${input.runId} (turn ${turn})`,
      });
      childStarted = true;
      const result = await handle.result();
      ended = { status: result.status === 'completed' ? 'completed' : result.status === 'cancelled' ? 'cancelled' : 'failed' };
    }
  } catch (err) {
    // The parent itself is being cancelled: its children were cancelled with it, and so is this call.
    if (isCancellation(err) && CancellationScope.current().consideredCancelled) {
      // A start cancelled before the child's workflow was known to run (a cancellation heard in the same task):
      // its row, if still queued, ends cancelled; a child that did start is cancelled with the parent.
      if (settlesUnstarted && !childStarted) await cancelUnstarted();
      throw err;
    }
    ended = { status: isCancellation(err) ? 'cancelled' : 'failed', message: describeFailure(err).message };
  }
  const settled = await acts.bookkeeping.settleChildRun({ parentRunId: input.runId, turn, toolUseId: call.toolUseId, childRunId: child.input.runId, agent: child.agent, ended });
  if (settled.treeCostUsd !== undefined && patched(TREE_SPEND_AT_SETTLE_PATCH)) run.takeTreeSpend(settled.treeCostUsd);
  return settled.isError;
}

/** A delegation that started nothing: its call's tool error, as for a call not approved. Returns that it failed. */
async function notDelegated(ctx: RunContext, call: ToolCallRef, message: string): Promise<true> {
  const { input, run, acts } = ctx;
  await acts.bookkeeping.recordToolResult({
    runId: input.runId,
    turn: run.turn,
    toolUseId: call.toolUseId,
    content: message,
    isError: true,
    eventType: 'tool.failed',
    eventData: { turn: run.turn, toolUseId: call.toolUseId, name: call.name, error: message, skipped: true },
  });
  return true;
}
