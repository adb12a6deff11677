/**
 * What the workflows and the activities pass each other: each activity's argument and result, when
 * it is more than ids inline. Defined here, not in the activity files, so workflow code imports
 * them from the pure contract and never from activities/. Pure: safe inside the workflow sandbox.
 */
import type { ApiErrorCode } from './errors';
import type { EventData, EventDraft } from './events';
import type { ApprovalKind, Decision, DecisionChannel, Progress, Risk, RunInput, RunLimits, Usage } from './run';

// ───────────────────────────── run bookkeeping ─────────────────────────────

export interface SyncRunStateArgs {
  runId: string;
  progress: Progress;
  events?: EventDraft[];
  /** The run has ended: stamp ended_at and keep the final answer as its result. */
  ended?: boolean;
  /**
   * The ending may be undone by follow-ups: if any are waiting, nothing is recorded and the run
   * goes on (a new lap) instead of ending. Decided under the run's row lock, so a follow-up either
   * arrives before (and reopens) or finds the run ended (and continues it in a new execution).
   */
  reopenable?: boolean;
}

export interface SyncRunStateResult {
  at: string;
  /** Follow-ups were waiting: the run did not end; it goes on in lap `lap`. */
  reopened?: boolean;
  lap?: number;
}

export interface AcceptFollowUpsResult {
  accepted: number;
  /** The highest caps the accepted messages asked for, field by field; null when none asked. */
  limits: Partial<RunLimits> | null;
  /** When they were taken in. */
  at: string;
}

export interface SweepArgs {
  stallThresholdSec: number;
  /** Only runs on this task queue belong to this deployment. */
  taskQueue: string;
}

/** The reaper of abandoned starts takes nothing: it looks at every run of the database (activities/reap-abandoned-starts.ts). */
export type ReapAbandonedStartsArgs = Record<string, never>;

export interface ReapAbandonedStartsResult {
  /** Runs deleted: queued, never started, and no workflow with their id. */
  reaped: number;
  /** Runs old enough to be asked about and left: a workflow (or a firing that may still start one), or no clear answer. */
  kept: number;
  /** Runs whose owed workflow start the sweep made (or found made: the owed mark cleared). */
  started: number;
}

// ───────────────────────────── model calls ─────────────────────────────

export interface CallModelArgs {
  runId: string;
  turn: number;
  model: string;
}

export interface SummarizeArgs {
  runId: string;
  segment: number;
  /** The last turn the summary covers. */
  throughTurn: number;
  model: string;
}

export interface SummaryResult {
  summaryChars: number;
  usage: Usage;
}

// ───────────────────────────── tool calls ─────────────────────────────

export interface RunToolArgs {
  runId: string;
  turn: number;
  toolUseId: string;
  /** A human approved re-running a call whose earlier attempt may or may not have happened. */
  rerunInDoubt?: boolean;
}

/** The transcript event that explains a tool result (e.g. the tool ran, or was rejected). */
type ToolResultEvent =
  | { eventType: 'tool.completed'; eventData: EventData<'tool.completed'> }
  | { eventType: 'tool.failed'; eventData: EventData<'tool.failed'> };

export type RecordToolResultArgs = {
  runId: string;
  turn: number;
  toolUseId: string;
  content: string;
  isError: boolean;
} & ToolResultEvent;

// ───────────────────────────── sub-agents ─────────────────────────────

/** A delegation: the parent's tool call (`toolUseId` of `turn`) that starts a child run. */
export interface StartChildRunArgs {
  parentRunId: string;
  turn: number;
  toolUseId: string;
  /** The parent's; the child's approvals wait as long. */
  approvalTimeoutSec: number;
}

/**
 * The child run, created (or found: the same call always names the same child), with its workflow input and task
 * queue; or why it was not created (`refused`, already recorded as the call's tool error).
 */
export type StartChildRunResult = { child: { input: RunInput; taskQueue: string; agent: string }; refused?: undefined } | { refused: string; child?: undefined };

export interface SettleChildRunArgs {
  parentRunId: string;
  turn: number;
  toolUseId: string;
  childRunId: string;
  agent: string;
  /** How the child's workflow ended, as the parent saw it; the child's own record decides when it has one. */
  ended: { status: 'completed' | 'failed' | 'cancelled'; message?: string };
}

/** Whether the call's result is an error, and the recorded spend of the parent's tree as the child's ending left it (absent from workers before it). */
export interface SettleChildRunResult {
  isError: boolean;
  treeCostUsd?: number;
}

/**
 * A delegation whose child run was recorded but whose workflow the parent never started (the parent was cancelled
 * first): the child's row ends `cancelled` rather than staying `queued` with nothing to run it.
 */
export interface CancelUnstartedChildArgs {
  parentRunId: string;
  turn: number;
  toolUseId: string;
  childRunId: string;
  agent: string;
  /** Why it never started, in words (absent: its parent was cancelled first). */
  reason?: string;
}

// ───────────────────────────── humans ─────────────────────────────

export interface RequestApprovalArgs {
  runId: string;
  approvalId: string;
  kind: ApprovalKind;
  turn: number;
  toolUseId?: string;
  /**
   * The call's risk as the worker that will run it read it (it refused the call for want of this approval):
   * recorded and shown as is. Absent, the worker recording the request reads the call's risk itself.
   */
  risk?: Risk;
  reason: string;
  timeoutSec: number;
}

export interface ProposedDecision {
  decision: Decision | 'expire';
  by: string;
  channel: DecisionChannel;
  comment?: string;
}

export interface Verdict {
  decision: 'approved' | 'rejected' | 'expired';
  by: string | null;
  channel: DecisionChannel | null;
  comment: string | null;
}

export interface SettleApprovalArgs {
  runId: string;
  approvalId: string;
  proposed: ProposedDecision;
  /** The run's state once the verdict is in (running again), recorded in the verdict's own transaction. */
  resume?: Progress;
}

export interface SettledApproval extends Verdict {
  /** With `resume`: when the run was recorded in that state. */
  resumedAt?: string;
}

export interface RequestInputArgs {
  runId: string;
  requestId: string;
  turn: number;
  toolUseId: string;
  timeoutSec: number;
}

export interface SettleInputArgs {
  runId: string;
  requestId: string;
  turn: number;
  toolUseId: string;
  answer: { text: string; by: string } | null;
  /** The run's state once the question is settled (running again), recorded in the same transaction. */
  resume?: Progress;
}

export interface SettledInput {
  answered: boolean;
  /** With `resume`: when the run was recorded in that state. */
  resumedAt?: string;
}

// ───────────────────────────── schedules ─────────────────────────────

/**
 * Why a schedule's firing started no run, each the code `POST /api/runs` would answer its owner with: their queue was
 * full (429), the kept input no longer fits the agent (400), they may no longer start runs on its team (403), or the
 * API key the schedule was created with has been revoked or has expired (401).
 */
export const FIRING_SKIP_REASONS = ['queue_full', 'invalid_input', 'forbidden', 'key_revoked', 'key_expired'] as const satisfies readonly ApiErrorCode[];
export type FiringSkipReason = (typeof FIRING_SKIP_REASONS)[number];

/** The run a firing starts, or why it starts none. */
export type ScheduledRunCreation = { input: RunInput; prewarm?: boolean; skipped?: undefined } | { skipped: FiringSkipReason; queued: number };
