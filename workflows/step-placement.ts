/**
 * Where a run's next model call runs: on the server's task queue as an ordinary activity, or in the
 * worker that runs the workflow task as a local activity (fast steps). Pure, so the rule is tested on
 * its own; every input comes from recorded activity results, so replay decides the same way.
 *
 * Local is cheaper by a server round trip and two history events per call, but while a local activity
 * runs the workflow task stays open: the run hears a cancel, a pause or a follow-up only when the task
 * completes. So a call runs locally only when it is expected to be short — the run's previous call took
 * less than `maxMs` — and while the run has gone less than `maxMs` since its last round trip through the
 * server (a remote model call), which bounds how long a signal can wait to about `maxMs` plus a step.
 *
 * Quick steps go further: a turn's quick tool calls and the next model call, and the turns after while
 * they fit, in one local activity (`quickStepFits`, which the activity and the workflow both apply).
 */
import { costCheckpointsDue, needsApproval } from './policy';
import { ASK_USER_TOOL, type ApprovalPolicy, type ModelTurnResult, type Usage } from '../contract/run';

export interface ModelCallHistory {
  /** The previous model call in this execution: how long it took, when it ended, and whether it ran locally. */
  previous: { tookMs: number | undefined; atMs: number; local: boolean } | null;
  /** When the last model call that went through the server ended (epoch ms): the local stretch started there. */
  lastRoundTripAtMs: number | null;
}

export function modelCallRunsLocally(history: ModelCallHistory, maxMs: number): boolean {
  const { previous, lastRoundTripAtMs } = history;
  if (maxMs <= 0 || !previous || previous.tookMs === undefined || lastRoundTripAtMs === null) return false;
  return previous.tookMs < maxMs && previous.atMs - lastRoundTripAtMs < maxMs;
}

/** The history after a call that ran `local` (or not) and ended at `atMs` having taken `tookMs`. */
export function afterModelCall(history: ModelCallHistory, call: { tookMs: number | undefined; atMs: number; local: boolean }): ModelCallHistory {
  return { previous: call, lastRoundTripAtMs: call.local ? history.lastRoundTripAtMs : call.atMs };
}

/** The run as quick steps see it, at an answer in hand: recorded values only, so the activity and the workflow agree. */
export interface QuickStepView {
  /** The turn whose answer is in hand: its tool calls run next, then the next turn's model call. */
  turn: number;
  /** Turns this segment has finished. */
  segmentTurns: number;
  /** Usage so far, this answer's included. */
  usage: Usage;
  costCheckpointsPassed: number;
  placement: ModelCallHistory;
}

/** The run's rules that bear on it, fixed while a workflow task runs. */
export interface QuickStepRules {
  approvals: ApprovalPolicy;
  maxSteps: number;
  maxCostUsd: number;
  segmentMaxTurns: number;
  costCheckpointUsd: number;
  localStepsMaxMs: number;
}

/**
 * Whether the answer in hand's tool calls and the next turn's model call can be one quick step: the run
 * would ask nothing of a human between them (every call quick, none the user's or needing approval, no
 * cost checkpoint due), no cap would stop the next turn, and the next model call would run locally
 * anyway — so the step does what the calls one by one would. What only the workflow knows (a pause,
 * follow-ups, the time cap, a hand-off Temporal suggests) it checks before quick steps start; none of
 * it changes before the workflow task ends.
 */
export function quickStepFits(answer: Pick<ModelTurnResult, 'stopReason' | 'toolCalls'>, view: QuickStepView, rules: QuickStepRules): boolean {
  if (answer.stopReason !== 'tool_use' || answer.toolCalls.length === 0) return false;
  if (!answer.toolCalls.every((c) => c.quick && c.name !== ASK_USER_TOOL && !needsApproval(rules.approvals, c.risk))) return false;
  if (costCheckpointsDue(view.usage.costUsd, rules.costCheckpointUsd) > view.costCheckpointsPassed) return false;
  if (view.turn + 1 > rules.maxSteps || view.usage.costUsd >= rules.maxCostUsd || view.segmentTurns + 1 >= rules.segmentMaxTurns) return false;
  return modelCallRunsLocally(view.placement, rules.localStepsMaxMs);
}
