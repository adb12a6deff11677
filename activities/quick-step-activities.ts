/**
 * Quick steps: a turn's quick tool calls, then the next turn's model call — and again with that answer's
 * calls, while they fit — in one local activity. Each step is taken only where the workflow would have
 * taken it with nothing in between to decide (`quickStepFits`, the rule both apply), so the steps are the
 * calls one by one, minus a round through the workflow for each, which costs more than a fast tool.
 * Every part runs under its own idempotency key, as it would on its own: quick steps that run again (their
 * worker died, or they are retried) return what the ledger recorded for the parts done.
 */
import { isDeferral, sumUsage, type ModelCallDeferral, type ModelTurnResult, type ToolOutcome } from '../contract/run';
import { afterModelCall, quickStepFits, type QuickStepRules, type QuickStepView } from '../workflows/step-placement';
import type { CallModelArgs } from './model-activities';
import type { RunToolArgs } from './tool-activities';

export interface QuickStepsArgs {
  runId: string;
  model: string;
  /** The tool calls of the answer in hand (turn `view.turn`), which the first step runs. */
  toolUseIds: string[];
  view: QuickStepView;
  rules: QuickStepRules;
}

export interface QuickStep {
  /** The tool calls' outcomes, in order: all of them, or up to the first that failed. */
  tools: ToolOutcome[];
  /** The next turn's answer (or why it must wait); absent when a tool call failed. */
  reply?: ModelTurnResult | ModelCallDeferral;
}

export interface QuickStepsResult {
  /** In order; every step but the last ended in an answer that fit another. */
  steps: QuickStep[];
}

export function createQuickStepActivities(parts: {
  runTool: (args: RunToolArgs) => Promise<ToolOutcome>;
  takeModelTurn: (args: CallModelArgs, activityAttempt: number) => Promise<ModelTurnResult | ModelCallDeferral>;
}) {
  async function quickSteps({ runId, model, toolUseIds, view, rules }: QuickStepsArgs): Promise<QuickStepsResult> {
    const steps: QuickStep[] = [];
    let calls = toolUseIds;
    for (let at = view; ; ) {
      const tools: ToolOutcome[] = [];
      for (const toolUseId of calls) {
        const outcome = await parts.runTool({ runId, turn: at.turn, toolUseId });
        tools.push(outcome);
        // What follows a failed call (a loop stopped, the turn's other calls) is the workflow's to decide.
        if (outcome.isError) return { steps: [...steps, { tools }] };
      }
      // Numbered as a first attempt: an earlier attempt may have failed before it asked the model, and
      // one that did ask left an entry in the ledger, whose count numbers this one.
      const reply = await parts.takeModelTurn({ runId, turn: at.turn + 1, model }, 1);
      steps.push({ tools, reply });
      if (isDeferral(reply)) return { steps };
      at = {
        turn: at.turn + 1,
        segmentTurns: at.segmentTurns + 1,
        usage: sumUsage(at.usage, reply.usage),
        costCheckpointsPassed: at.costCheckpointsPassed,
        placement: afterModelCall(at.placement, { tookMs: reply.tookMs, atMs: Date.parse(reply.at), local: true }),
      };
      if (!quickStepFits(reply, at, rules)) return { steps };
      calls = reply.toolCalls.map((c) => c.toolUseId);
    }
  }

  return { quickSteps };
}
