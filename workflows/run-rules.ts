/**
 * What the run decides between calls without asking anyone: whether a cap stops it, whether a cost
 * checkpoint is due, whether its segment is full. Written once, here: the run loop applies them at every
 * turn boundary, and the replay-only code of recorded histories (legacy-local-steps.ts) asks them too.
 */
import { workflowInfo } from '@temporalio/workflow';
import { costCheckpointsDue } from './policy';
import type { RunContext } from './run-context';
import type { LimitName } from '../contract/events';
import type { RunError } from '../contract/run';
import { DEFAULT_OUTPUT_RETRIES } from '../contract/agents';

/** How a run's turns end. */
export type Ending =
  | { kind: 'completed' }
  | { kind: 'limit'; limit: LimitName; value: number; message: string }
  | { kind: 'stopped'; detail: string }
  | { kind: 'failed'; error: RunError }
  | { kind: 'handoff' };

/** The cap that stops the run before `turn` (the current turn, or the next when looking ahead), if any. */
export function capReached(ctx: RunContext, turn: number): Ending | null {
  const { run } = ctx;
  const { limits } = run;
  if (turn > limits.maxSteps) {
    return { kind: 'limit', limit: 'maxSteps', value: limits.maxSteps, message: `reached the step limit of ${limits.maxSteps}` };
  }
  // A model call refused before it was made: it did not fit a cap of the run or of a run above it.
  const refused = run.refusalAt(turn);
  if (refused) return { kind: 'limit', limit: refused.limit, value: refused.value, message: refused.message };
  // The tree's spend, when the run has sub-agents' runs below it (their calls count toward its cap).
  const cost = run.countedCostUsd;
  if (cost >= limits.maxCostUsd) {
    const spent = cost.toFixed(4);
    return { kind: 'limit', limit: 'maxCostUsd', value: cost, message: `spent $${spent}, at or over the $${limits.maxCostUsd} cost limit` };
  }
  if (ctx.deadlinePassed()) {
    return { kind: 'limit', limit: 'maxDurationSec', value: limits.maxDurationSec, message: `ran past the ${limits.maxDurationSec}s time limit` };
  }
  return null;
}

/** The checkpoint the run's spend (its tree's, sub-agents' runs included) has crossed and no human has passed yet (its count), or null. Checked without an await. */
export function checkpointDue({ run, input }: RunContext): number | null {
  const due = costCheckpointsDue(run.countedCostUsd, input.settings.costCheckpointUsd);
  return due > run.costCheckpointsPassed ? due : null;
}

/** Whether a segment that has taken `segmentTurns` turns hands off (or stops at the segment cap) before the next. */
export function segmentFull(ctx: RunContext, segmentTurns: number): boolean {
  return segmentTurns > 0 && (workflowInfo().continueAsNewSuggested || segmentTurns >= ctx.input.settings.segmentMaxTurns);
}

/**
 * What a model answer's final result means for the run (agents with an output schema): `valid` completes it;
 * `invalid` counts a rejection, and past the agent's `outputRetries` fails the run (`output_invalid`), else the
 * run goes on to its next turn, a turn like any other. Null: the answer says nothing of a final result, the
 * run goes as ever. Histories recorded before agents never carry `output`, so they take the null path.
 */
export function outputEnding(ctx: RunContext, output: 'valid' | 'invalid' | undefined): Ending | 'next_turn' | null {
  if (output === undefined) return null;
  if (output === 'valid') return { kind: 'completed' };
  // Absent when the run started on a version with no output schema and was upgraded to one: the agents' default.
  const retries = ctx.input.settings.outputRetries ?? DEFAULT_OUTPUT_RETRIES;
  if (!ctx.run.rejectOutput(retries)) return 'next_turn';
  return { kind: 'failed', error: { code: 'output_invalid', message: `the final result failed the agent's output schema ${ctx.run.outputRejections} times (${retries} retries allowed)` } };
}
