/**
 * A quick step: a turn's quick tool calls and then the next turn's model call, in one local activity.
 * The workflow takes one only when nothing it decides between the two could differ (every call quick
 * and needing no approval, no cap, pause or follow-up due, the model call local anyway), so the step is
 * the same as making the calls one by one — minus a round through the workflow, which costs more than
 * a fast tool. Each part runs under its own idempotency key, as it would on its own: a quick step that
 * runs again (its worker died, or it is retried) returns what the ledger recorded for the parts done.
 */
import type { ModelCallDeferral, ModelTurnResult, ToolOutcome } from '../contract/run';
import type { CallModelArgs } from './model-activities';
import type { RunToolArgs } from './tool-activities';

export interface QuickStepArgs {
  runId: string;
  /** The turn whose tool calls run; the model call is the next turn's. */
  turn: number;
  toolUseIds: string[];
  model: string;
}

export interface QuickStepResult {
  /** The tool calls' outcomes, in order: all of them, or up to the first that failed. */
  tools: ToolOutcome[];
  /** The next turn's answer (or why it must wait); absent when a tool call failed. */
  reply?: ModelTurnResult | ModelCallDeferral;
}

export function createQuickStepActivities(parts: {
  runTool: (args: RunToolArgs) => Promise<ToolOutcome>;
  takeModelTurn: (args: CallModelArgs, activityAttempt: number) => Promise<ModelTurnResult | ModelCallDeferral>;
}) {
  async function quickStep({ runId, turn, toolUseIds, model }: QuickStepArgs): Promise<QuickStepResult> {
    const tools: ToolOutcome[] = [];
    for (const toolUseId of toolUseIds) {
      const outcome = await parts.runTool({ runId, turn, toolUseId });
      tools.push(outcome);
      // What follows a failed call (a loop stopped, the turn's other calls) is the workflow's to decide.
      if (outcome.isError) return { tools };
    }
    // Numbered as a first attempt: an earlier attempt of this step may have failed before it asked the
    // model, and one that did ask left an entry in the ledger, whose count numbers this one.
    return { tools, reply: await parts.takeModelTurn({ runId, turn: turn + 1, model }, 1) };
  }

  return { quickStep };
}
