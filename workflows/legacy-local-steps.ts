/**
 * REPLAY-ONLY. Reproduces the commands of histories recorded 2026-11-22 … 2026-12-05, when fast steps ran
 * calls as local activities in the worker running the workflow task:
 *   - a model call, when the run's previous one took less than `settings.localStepsMaxMs` (local model calls);
 *   - a quick tool call, on the workflow's own worker (quick tools);
 *   - a turn's quick tool calls and the next model calls in one local activity, `quickSteps` (quick steps).
 * Never taken live. Each place where that code went local first asks `patched('one-activity-per-call')`,
 * which is true in every workflow task run live: new runs, and runs started before it that go on under this
 * code, make each model call and each tool call an ordinary activity (agent-run.ts, model-waits.ts). Only the
 * replay of a workflow task recorded before that marker takes these paths, and the local activities' results
 * come from the history's markers: no worker registers `quickSteps` any more.
 *
 * Kept minimal and apart so it can go in one piece: delete it, with the fixture folders
 * 2026-11-22-fast-steps and 2026-11-22-quick-steps, once no run started before 2026-12-05 is open.
 */
import { patched, proxyLocalActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { retryPolicy } from './activity-proxies';
import { failureType } from './failures';
import { EXECUTOR_APPROVAL_PATCH, needsApproval } from './policy';
import { capReached, checkpointDue, segmentFull } from './run-rules';
import { isoToMs } from './time';
import type { RunContext } from './run-context';
import type { Activities } from '../activities';
import type { CallModelArgs, RunToolArgs } from '../contract/activity-io';
import { ASK_USER_TOOL, isDeferral, type ApprovalPolicy, type ModelCallDeferral, type ModelTurnResult, type ToolOutcome, type Usage } from '../contract/run';
import { FailureType } from '../contract/failures';

/** Every model call and tool call an ordinary activity (2026-12-05); asked only where the code before went local. */
const ONE_ACTIVITY_PER_CALL_PATCH = 'one-activity-per-call';

/** Whether this workflow task replays one recorded when this call ran locally. */
const recordedLocal = (): boolean => !patched(ONE_ACTIVITY_PER_CALL_PATCH);

/** The failure type the SDK gives an activity no worker registers. */
const ACTIVITY_NOT_REGISTERED = 'NotFoundError';

/** A run's model calls so far in this execution, which placed the next one in recorded histories. */
export interface ModelCallHistory {
  /** The previous model call: how long it took, when it ended, and whether it ran locally. */
  previous: { tookMs: number | undefined; atMs: number; local: boolean } | null;
  /** When the last model call that went through the server ended (epoch ms). */
  lastRoundTripAtMs: number | null;
}

function modelCallRanLocally({ previous, lastRoundTripAtMs }: ModelCallHistory, maxMs: number): boolean {
  if (maxMs <= 0 || !previous || previous.tookMs === undefined || lastRoundTripAtMs === null) return false;
  return previous.tookMs < maxMs && previous.atMs - lastRoundTripAtMs < maxMs;
}

function afterModelCall(history: ModelCallHistory, call: { tookMs: number | undefined; atMs: number; local: boolean }): ModelCallHistory {
  return { previous: call, lastRoundTripAtMs: call.local ? history.lastRoundTripAtMs : call.atMs };
}

/** Notes a model call's answer, for where the next one ran (only runs carrying `localStepsMaxMs` ever ran one locally). */
export function noteModelCall({ input, run }: RunContext, answer: ModelTurnResult, local: boolean): void {
  if (!input.settings.localStepsMaxMs) return;
  run.modelCalls = afterModelCall(run.modelCalls, { tookMs: answer.tookMs, atMs: isoToMs(answer.at), local });
}

/** Whether the turn's model call is the replay of a local one. */
export function modelCallIsRecordedLocal(ctx: RunContext): boolean {
  const { input, run } = ctx;
  return ctx.steps.fast && modelCallRanLocally(run.modelCalls, input.settings.localStepsMaxMs ?? 0) && recordedLocal();
}

export function callModelLocally({ input }: RunContext, args: CallModelArgs): Promise<ModelTurnResult | ModelCallDeferral> {
  return proxyLocalActivities<Activities>({ startToCloseTimeout: `${input.settings.modelCallTimeoutSec}s`, retry: retryPolicy(input.settings) }).callModel(args);
}

/** Whether a quick tool call is the replay of a local one. */
export function toolCallIsRecordedLocal(ctx: RunContext, call: { quick?: true }): boolean {
  return ctx.steps.fast && call.quick === true && recordedLocal();
}

export function runToolLocally({ input }: RunContext, args: RunToolArgs): Promise<ToolOutcome> {
  return proxyLocalActivities<Activities>({ startToCloseTimeout: `${input.settings.toolCallTimeoutSec}s`, retry: retryPolicy(input.settings) }).runTool(args);
}

/** One quick step as the `quickSteps` activity returned it: a turn's tool calls, then the next turn's answer. */
interface QuickStep {
  /** The tool calls' outcomes, in order: all of them, or up to the first that failed. */
  tools: ToolOutcome[];
  /** The next turn's answer (or why it must wait); absent when a tool call failed. */
  reply?: ModelTurnResult | ModelCallDeferral;
}

/** The arguments the recorded histories scheduled `quickSteps` with. */
interface QuickStepsArgs {
  runId: string;
  model: string;
  toolUseIds: string[];
  view: { turn: number; segmentTurns: number; usage: Usage; costCheckpointsPassed: number; placement: ModelCallHistory };
  rules: { approvals: ApprovalPolicy; maxSteps: number; maxCostUsd: number; segmentMaxTurns: number; costCheckpointUsd: number; localStepsMaxMs: number };
}

/** The activity type the recorded histories name; its results come from their markers. */
type QuickStepsActivity = { quickSteps(args: QuickStepsArgs): Promise<{ steps: QuickStep[] }> };

/**
 * The quick steps of recorded histories, from the workflow's side, for one pass of the run's turns: where they
 * started, the turn's tool calls come back already run, and the next turn's answer with them.
 */
export class RecordedQuickSteps {
  /** Steps taken past the answer in hand, in order. */
  private ahead: QuickStep[] = [];
  private answer: ModelTurnResult | ModelCallDeferral | undefined;

  constructor(private readonly ctx: RunContext) {}

  /** The turn's answer, when the previous quick step brought it (taken once). */
  takeAnswer(): ModelTurnResult | ModelCallDeferral | undefined {
    const answer = this.answer;
    this.answer = undefined;
    return answer;
  }

  /** Takes quick steps from `reply`, when the recorded history did (call only when `startHere`). */
  async start(reply: ModelTurnResult): Promise<void> {
    this.ahead = (await this.take(reply)) ?? [];
  }

  /** The outcomes of this turn's first tool calls, when quick steps ran them (none live). */
  toolsRun(): ToolOutcome[] {
    const step = this.ahead.shift();
    this.answer = step?.reply;
    return step?.tools ?? [];
  }

  /**
   * Whether the recorded history started quick steps with `reply`: none were under way, and the run would ask
   * nothing of a human before the next model call, no cap or checkpoint would stop it (run-rules.ts, as the loop
   * applies them), and that call would have run locally.
   */
  startHere(reply: ModelTurnResult): boolean {
    const { ctx } = this;
    const { run, input } = ctx;
    if (this.ahead.length) return false;
    if (run.paused || run.followUpsWaiting || ctx.deadlinePassed() || workflowInfo().continueAsNewSuggested) return false;
    if (reply.stopReason !== 'tool_use' || reply.toolCalls.length === 0) return false;
    if (!reply.toolCalls.every((c) => c.quick && c.name !== ASK_USER_TOOL && !needsApproval(input.approvals, c.risk))) return false;
    if (checkpointDue(ctx) !== null || capReached(ctx, run.turn + 1) || segmentFull(ctx, run.segmentTurns + 1)) return false;
    return modelCallRanLocally(run.modelCalls, input.settings.localStepsMaxMs ?? 0) && ctx.steps.quick() && recordedLocal();
  }

  /** Null when they failed with a call in doubt: the calls then went one by one. */
  private async take(reply: ModelTurnResult): Promise<QuickStep[] | null> {
    const { input, run } = this.ctx;
    const { settings } = input;
    setCurrentDetails(`turn ${run.turn}: quick steps (${reply.toolCalls.map((c) => c.name).join(', ')}, then ${input.model})`);
    const startToCloseSec = settings.toolCallTimeoutSec + settings.modelCallTimeoutSec + Math.ceil((settings.localStepsMaxMs ?? 0) / 1000);
    const activity = proxyLocalActivities<QuickStepsActivity>({ startToCloseTimeout: `${startToCloseSec}s`, retry: retryPolicy(settings) });
    let steps: QuickStep[];
    try {
      ({ steps } = await activity.quickSteps({
        runId: input.runId,
        model: input.model,
        toolUseIds: reply.toolCalls.map((c) => c.toolUseId),
        view: { turn: run.turn, segmentTurns: run.segmentTurns, usage: run.usage, costCheckpointsPassed: run.costCheckpointsPassed, placement: run.modelCalls },
        rules: {
          approvals: input.approvals,
          maxSteps: run.limits.maxSteps,
          maxCostUsd: run.limits.maxCostUsd,
          segmentMaxTurns: settings.segmentMaxTurns,
          costCheckpointUsd: settings.costCheckpointUsd,
          localStepsMaxMs: settings.localStepsMaxMs ?? 0,
        },
      }));
    } catch (err) {
      // NotFoundError: a workflow task recorded as starting quick steps whose result was never recorded (its
      // worker died while they ran past the task's timeout) runs them here, where no worker has the activity
      // any more; the calls then go one by one too, each an ordinary activity.
      // A call the executing worker refused for want of an approval goes one by one too, where it is put to a human.
      const type = failureType(err);
      const refused = type === FailureType.ApprovalRequired && patched(EXECUTOR_APPROVAL_PATCH);
      if (!refused && type !== FailureType.EffectInDoubt && type !== ACTIVITY_NOT_REGISTERED) throw err;
      return null;
    }
    for (const step of steps) {
      for (const outcome of step.tools) if (outcome.worker) run.workspaceQueue = outcome.worker;
      const answer = step.reply;
      if (answer && !isDeferral(answer)) noteModelCall(this.ctx, answer, true);
    }
    return steps;
  }
}
