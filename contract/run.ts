/**
 * A run's vocabulary: statuses, limits, usage, what the workflow carries and reports. Shared by
 * the workflow, activities, API, web UI and client. Pure: safe inside the workflow sandbox.
 */

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting_approval',
  'waiting_input',
  'paused',
  'completed',
  'failed',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminalStatus = (s: RunStatus): boolean => TERMINAL_STATUSES.includes(s);

export type Risk = 'read' | 'write' | 'irreversible';

/** The tool the model uses to ask its user a question; the workflow itself waits for the answer. */
export const ASK_USER_TOOL = 'ask_user';
export type ApprovalPolicy = 'none' | 'write' | 'all';

export interface RunLimits {
  /** Model turns (one model call and the tool calls it asks for). */
  maxSteps: number;
  maxCostUsd: number;
  maxDurationSec: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * Execution settings frozen into the run when it is created, so a run keeps the
 * timeouts and caps it started with even if the deployment's config changes later.
 */
export interface RunSettings {
  heartbeatTimeoutSec: number;
  modelCallTimeoutSec: number;
  toolCallTimeoutSec: number;
  maxAttempts: number;
  segmentMaxTurns: number;
  maxSegments: number;
  loopDetectionThreshold: number;
  costCheckpointUsd: number;
  maxConcurrentPerUser: number;
  /** At most this often a turn re-stamps LonghaulLastProgressAt (each stamp is a history event). */
  progressStampSec: number;
}

/** What the workflow carries from one segment to the next through continue-as-new. */
export interface CarriedState {
  segment: number;
  turn: number;
  usage: Usage;
  costCheckpointsPassed: number;
  /** Epoch ms of the run's start, from the first segment's start time. */
  startedAtMs: number;
  paused: boolean;
  recentToolCalls: string[];
  /** Extra segments a human granted after the segment cap paused the run. */
  extraSegments: number;
  /** Times the run was continued by follow-up messages after it ended (0: never); keys its ending events. */
  lap?: number;
  /** This execution continues a run that had ended: claim a slot, then take in the waiting follow-ups. */
  continued?: boolean;
}

export interface RunInput {
  runId: string;
  owner: string;
  model: string;
  approvals: ApprovalPolicy;
  approvalTimeoutSec: number;
  limits: RunLimits;
  settings: RunSettings;
  carried?: CarriedState;
}

export type ApprovalKind = 'tool' | 'cost_checkpoint' | 'effect_in_doubt' | 'segment_cap';

export interface PendingApproval {
  approvalId: string;
  kind: ApprovalKind;
  tool: string | null;
  input: unknown;
  risk: Risk | null;
  reason: string;
  requestedAt: string;
  expiresAt: string;
}

export interface PendingInput {
  requestId: string;
  /** The `ask_user` call this question answers. */
  toolUseId: string;
  question: string;
  requestedAt: string;
  expiresAt: string;
}

export interface RunError {
  code: string;
  message: string;
}

export interface Progress {
  runId: string;
  status: RunStatus;
  statusDetail: string | null;
  model: string;
  turn: number;
  segment: number;
  usage: Usage;
  limits: RunLimits;
  pendingApprovals: PendingApproval[];
  pendingInput: PendingInput | null;
  error: RunError | null;
  lastEventAt: string | null;
}

/** The words a human decides with (API body, Slack buttons) and what the approval becomes. */
export type Decision = 'approve' | 'reject';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';
export type ApprovalOutcome = Exclude<ApprovalStatus, 'pending'>;
/** One mapping from a decision word to the approval's outcome, for every channel. */
export const DECISION_OUTCOME: Record<Decision | 'expire', ApprovalOutcome> = { approve: 'approved', reject: 'rejected', expire: 'expired' };
export type DecisionChannel = 'api' | 'slack' | 'web' | 'system';

export interface ApprovalDecision {
  approvalId: string;
  decision: Decision;
  by: string;
  channel: DecisionChannel;
  comment?: string;
}

export interface UserInput {
  requestId: string;
  text: string;
  by: string;
}

/** A follow-up message is waiting in the database; its text is there, not in the signal. */
export interface FollowUpNotice {
  messageId: string;
}

export interface ControlRequest {
  by: string;
}

/** The value the workflow completes with: small, ids and summaries only. */
export interface RunResult {
  status: RunStatus;
  turns: number;
  usage: Usage;
  error: RunError | null;
}

/** A tool call as the workflow sees it: no inputs, only what it needs to decide. */
export interface ToolCallRef {
  toolUseId: string;
  name: string;
  risk: Risk;
  /** Hash of name + canonical input, for approvals binding and loop detection. */
  inputHash: string;
}

/**
 * What a model call returns into workflow history — no text, no inputs: those are in the database.
 * Every byte here is repeated for every turn of every run.
 */
export interface ModelTurnResult {
  stopReason: string;
  toolCalls: ToolCallRef[];
  usage: Usage;
  /** When the response was complete. */
  at: string;
}

export interface ToolOutcome {
  isError: boolean;
  /** The ledger already held a completed result: the tool did not run again. */
  replayed: boolean;
  bytes: number;
}
