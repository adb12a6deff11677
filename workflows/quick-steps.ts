/**
 * Quick steps, from the workflow's side: when the answer in hand's tool calls are quick, one local
 * activity runs them, asks the model for the next turn, and goes on while the answers fit
 * (`quickStepFits`); the run then takes the steps' results in order as if it had made the calls one by
 * one. It checks first what only it knows — a pause, follow-ups, the time cap, a hand-off Temporal
 * suggests — none of which can change before the workflow task ends, which is when it would next look.
 */
import { patched, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { failureType } from './failures';
import { EXECUTOR_APPROVAL_PATCH } from './policy';
import { afterModelCall, quickStepFits, type QuickStepRules, type QuickStepView } from './step-placement';
import { isoToMs } from './time';
import type { RunContext } from './run-context';
import type { QuickStep } from '../activities/quick-step-activities';
import { isDeferral, type ModelTurnResult } from '../contract/run';
import { FailureType } from '../contract/failures';

/** Whether quick steps may start with the answer in hand (`reply`, this turn's). */
export function quickStepsMayStart(ctx: RunContext, reply: ModelTurnResult): boolean {
  const { run } = ctx;
  if (run.paused || run.followUpsWaiting || ctx.deadlinePassed() || workflowInfo().continueAsNewSuggested) return false;
  return quickStepFits(reply, viewOf(ctx), rulesOf(ctx)) && ctx.steps.quick();
}

/**
 * Runs quick steps from the answer in hand. The first step's tools are this turn's; each step's answer is
 * the next turn's. Null when a call is in doubt (a worker died while it ran) or needs an approval the run did
 * not ask for: the calls then go one by one, where such a call is put to a human, and those already finished
 * return from the ledger.
 */
export async function takeQuickSteps(ctx: RunContext, reply: ModelTurnResult): Promise<QuickStep[] | null> {
  const { input, run, acts } = ctx;
  setCurrentDetails(`turn ${run.turn}: quick steps (${reply.toolCalls.map((c) => c.name).join(', ')}, then ${input.model})`);
  let steps: QuickStep[];
  try {
    ({ steps } = await acts.quickSteps.quickSteps({
      runId: input.runId,
      model: input.model,
      toolUseIds: reply.toolCalls.map((c) => c.toolUseId),
      view: viewOf(ctx),
      rules: rulesOf(ctx),
    }));
  } catch (err) {
    // A call the executing worker refused for want of an approval goes one by one too, where it is put to a human.
    const refused = failureType(err) === FailureType.ApprovalRequired && patched(EXECUTOR_APPROVAL_PATCH);
    if (!refused && failureType(err) !== FailureType.EffectInDoubt) throw err;
    return null;
  }
  for (const step of steps) {
    for (const outcome of step.tools) if (outcome.worker) run.workspaceQueue = outcome.worker;
    const answer = step.reply;
    if (answer && !isDeferral(answer)) run.modelCalls = afterModelCall(run.modelCalls, { tookMs: answer.tookMs, atMs: isoToMs(answer.at), local: true });
  }
  return steps;
}

function viewOf({ run }: RunContext): QuickStepView {
  return { turn: run.turn, segmentTurns: run.segmentTurns, usage: run.usage, costCheckpointsPassed: run.costCheckpointsPassed, placement: run.modelCalls };
}

function rulesOf({ input, run }: RunContext): QuickStepRules {
  const { settings } = input;
  return {
    approvals: input.approvals,
    maxSteps: run.limits.maxSteps,
    maxCostUsd: run.limits.maxCostUsd,
    segmentMaxTurns: settings.segmentMaxTurns,
    costCheckpointUsd: settings.costCheckpointUsd,
    localStepsMaxMs: settings.localStepsMaxMs ?? 0,
  };
}
