/**
 * A run's vocabulary: statuses, limits, usage, what the workflow carries and reports. Shared by
 * the workflow, activities, API, web UI and client. Pure: safe inside the workflow sandbox.
 */
import type { RunErrorCode } from './errors';

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

/** How much a tool call can change, least first: anything unknown is read as the riskiest. */
export const RISKS = ['read', 'write', 'irreversible'] as const;
export type Risk = (typeof RISKS)[number];

/**
 * A value's place in a list ordered weakest first, where anything the list does not know (a newer worker's value, a
 * row this version cannot read) ranks above all it knows: decisions about risk fail closed.
 */
function rankFailingClosed(list: readonly string[], value: string): number {
  const at = list.indexOf(value);
  return at === -1 ? list.length : at;
}

/** The riskier of two readings; a reading this version does not know counts as riskier than any it does. */
export function riskier(a: Risk, b: Risk): Risk {
  return rankFailingClosed(RISKS, a) >= rankFailingClosed(RISKS, b) ? a : b;
}

/** Whether an approval given for a call read as `shown` covers running it at `risk`: what the approver saw was at least as risky. */
export function riskCovers(shown: Risk | null, risk: Risk): boolean {
  // An approval with no risk recorded was shown none: it covers only a call that needs no warning.
  return rankFailingClosed(RISKS, shown ?? 'read') >= rankFailingClosed(RISKS, risk);
}

/** The offline model every server has: it needs no key and costs nothing. */
export const DEMO_MODEL = 'demo';

/** The tool the model uses to ask its user a question; the workflow itself waits for the answer. */
export const ASK_USER_TOOL = 'ask_user';
/** Which tool calls wait for a human, fewest first: none, write (and irreversible), or all. */
export const APPROVAL_POLICIES = ['none', 'write', 'all'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

/** Whether a call of this risk waits for a human under this policy: the workflow asks by it, the executing worker checks by it. */
export function needsApproval(policy: ApprovalPolicy, risk: Risk): boolean {
  switch (policy) {
    case 'none':
      return false;
    case 'write':
      return risk !== 'read';
    case 'all':
      return true;
    default:
      // A policy this version does not know (a newer deploy's): ask.
      return true;
  }
}

/** How a call's risk is put to people ("wipe is an irreversible action"), worded once for every place that says it. */
export function riskPhrase(tool: string, risk: Risk): string {
  return `${tool} is ${risk === 'irreversible' ? 'an' : 'a'} ${risk} action`;
}

/** Why the worker about to run a call wants an approval: the call's risk by its reading, and the policy it enforces. */
export function approvalRequiredReason(tool: string, risk: Risk, policy: ApprovalPolicy): string {
  return `${riskPhrase(tool, risk)} and needs approval under the ${policy} policy`;
}

/**
 * The stricter of two policies (a run's own and a server's floor, `MIN_APPROVALS`): the later in APPROVAL_POLICIES. A
 * policy this version does not know counts as stricter than any it does, and `needsApproval` asks under it.
 */
export function stricterPolicy(a: ApprovalPolicy, b: ApprovalPolicy): ApprovalPolicy {
  return rankFailingClosed(APPROVAL_POLICIES, a) >= rankFailingClosed(APPROVAL_POLICIES, b) ? a : b;
}

export interface RunLimits {
  /**
   * Most model turns the run takes, over all its segments and laps (`turn > maxSteps` ends it). A turn is
   * one model call, its retries included, and the tool calls it asks for; the relay's summaries are not
   * turns. The name is the API's; it counts turns, not tool calls.
   */
  maxSteps: number;
  maxCostUsd: number;
  maxDurationSec: number;
}

/** Limits raised to at least `raised` where it says more, never lowered: how a follow-up's limits apply, everywhere. */
export function raisedTo(limits: RunLimits, raised: Partial<RunLimits>): RunLimits {
  return {
    maxSteps: Math.max(limits.maxSteps, raised.maxSteps ?? 0),
    maxCostUsd: Math.max(limits.maxCostUsd, raised.maxCostUsd ?? 0),
    maxDurationSec: Math.max(limits.maxDurationSec, raised.maxDurationSec ?? 0),
  };
}

/**
 * Tokens and cost of model calls. `inputTokens` are the uncached input tokens (Anthropic's
 * `input_tokens`); the prompt cache's reads and writes are counted apart, because they are priced
 * apart and cache reads do not count toward the input rate limit. Absent cache fields: none (older
 * runs recorded none).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Input tokens read from the prompt cache (billed at the cache-read rate). */
  cacheReadTokens?: number;
  /** Input tokens written to the prompt cache (billed at the cache-write rate). */
  cacheWriteTokens?: number;
}

/** The sum of two usages; cache fields appear only when some were used. */
export function sumUsage(a: Usage, b: Usage): Usage {
  const cacheRead = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  const cacheWrite = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: a.costUsd + b.costUsd,
    ...(cacheRead > 0 && { cacheReadTokens: cacheRead }),
    ...(cacheWrite > 0 && { cacheWriteTokens: cacheWrite }),
  };
}

/** The share of a usage's input the prompt cache served (0 when it served none). */
export function cachedShare(u: Usage): number {
  const total = u.inputTokens + (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0);
  return total > 0 ? (u.cacheReadTokens ?? 0) / total : 0;
}

/**
 * What a run is waiting for, when it waits on something other than its own next call: a concurrency `slot`
 * of its owner's (queued), room in the model's shared rate limits (`capacity`, still running), a `human`
 * (an approval, an answer, or a resume after a pause or the segment cap), or the next day's model `budget`.
 * Set with the status; `statusDetail` says the same in words, for people only.
 */
export const WAITING_FOR = ['slot', 'capacity', 'human', 'budget'] as const;
export type WaitingFor = (typeof WAITING_FOR)[number];
/**
 * Why a run paused: a person asked (`request`: a pause of the run or of its tree), or the run paused itself at a
 * cap only a resume lets it pass — its segment cap (`segments`), or its owner's or team's daily model budget
 * (`budget`). A tree's resume resumes the runs below the one resumed only where a person paused them: a run paused
 * for its own cap is resumed on its own, where its cap is shown. Carried by `run.paused` (absent on pauses
 * recorded before it, whose `by` says `system` when the run paused itself).
 */
export const PAUSE_CAUSES = ['request', 'segments', 'budget'] as const;
export type PauseCause = (typeof PAUSE_CAUSES)[number];
/** Who a pause is by when no person asked for it: the run paused itself (`run.paused`'s `by`). */
export const SELF_PAUSED_BY = 'system';

/** A run whose next model call waits for the shared rate limits to have room. */
export const isThrottled = (p: { status: RunStatus; waitingFor: WaitingFor | null }): boolean => p.status === 'running' && p.waitingFor === 'capacity';

/** Which of the model's rate limits a call waits for. */
export const CAPACITY_LIMITS = ['rpm', 'input_tpm', 'output_tpm'] as const;
export type CapacityLimit = (typeof CAPACITY_LIMITS)[number];

/**
 * A model call that did not happen yet, and why: the shared rate limits have no room for it until
 * `waitMs` from now (the workflow sleeps on a timer, then asks again), or its owner has spent
 * today's budget (the run pauses until the next UTC day starts, `resumeInMs` from now, or until resumed),
 * or — in a run tree — the call would not fit in a cap of the run or of one of its ancestors (`limit`: the
 * call is refused before it is made, for good, and the run stops with `limit.exceeded`).
 */
export type ModelCallDeferral =
  | { deferred: 'capacity'; waitMs: number; limit: CapacityLimit }
  /** `team`: the run's team has spent its daily budget (absent: the run's owner has spent theirs). */
  | { deferred: 'budget'; resumeInMs: number; spentUsd: number; budgetUsd: number; team?: string }
  | { deferred: 'limit'; limit: TreeLimit; value: number; message: string };

/** The caps a run tree's books hold every call of the tree to, before it is made. */
export type TreeLimit = 'maxCostUsd' | 'maxSteps';

export const isDeferral = <T extends object>(answer: T | ModelCallDeferral): answer is ModelCallDeferral => 'deferred' in answer;

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
  /**
   * Replay-only (workflows/legacy-local-steps.ts): runs started between 2026-11-22 and 2026-12-05 carry it, and
   * their recorded histories ran a model call locally when the previous one took less than this (ms). New runs
   * never carry it.
   */
  localStepsMaxMs?: number;
  /**
   * Agents with an output schema: how many final answers that fail it are sent back to the model before the run
   * fails with `output_invalid`. Absent: the agent has none (the final answer is text).
   */
  outputRetries?: number;
  /**
   * Sub-agents: most child runs of this run at once (the agent's own bound, at most the server's). Absent (runs
   * started before it was configurable): SUBAGENT_BOUNDS.maxParallelChildren.
   */
  maxParallelChildren?: number;
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
  /** The worker queue holding the run's workspace (see ToolOutcome.worker). */
  workspaceQueue?: string;
  /** Final results its agent's output schema rejected so far (absent: none). */
  outputRejections?: number;
  /** The recorded spend of the run's tree (its sub-agents' runs included) when it handed off (absent: none known). */
  treeCostUsd?: number;
  /** Follow-ups were signalled that the run had not taken in when it handed off: take them in at the first turn boundary. */
  followUpsWaiting?: boolean;
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
  /** A worker queue that already holds the run's workspace (a schedule's pre-warmed workspace): its first tool call goes there. */
  workspaceQueue?: string;
  /** A child run (sub-agent): the run that delegated to it. It rides on its root's concurrency slot and claims none. */
  parentRunId?: string;
  /** How deep in its run tree the run is (absent: 0, a root). */
  depth?: number;
}

export const APPROVAL_KINDS = ['tool', 'cost_checkpoint', 'effect_in_doubt', 'segment_cap'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

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

/**
 * The page sizes of what waits for people (GET /api/inbox, GET /api/approvals): a page a person reads by default; at
 * most what a client walking it asks at once.
 */
export const WAITING_PAGE = { default: 50, max: 200 } as const;

/** A tool input longer than this as JSON is shown cut (progress, events, the inbox); the approval itself has all of it. */
export const INPUT_PREVIEW_CHARS = 4000;

/** The input as previews carry it: itself when short, else its JSON cut, saying how long it was. */
export function inputPreview(input: unknown): unknown {
  const json = JSON.stringify(input ?? null);
  return json.length <= INPUT_PREVIEW_CHARS ? input : `${json.slice(0, INPUT_PREVIEW_CHARS)}… (${json.length} characters)`;
}

/** Whether an input is a cut preview, so that a reader knows to fetch the approval for all of it. */
export const isCutInputPreview = (input: unknown): boolean => typeof input === 'string' && /… \(\d+ characters\)$/.test(input);

export interface PendingInput {
  requestId: string;
  /** The `ask_user` call this question answers. */
  toolUseId: string;
  question: string;
  requestedAt: string;
  expiresAt: string;
}

export interface RunError {
  /** Stable: clients may branch on it (see RUN_ERROR_CODES). */
  code: RunErrorCode;
  message: string;
}

export interface Progress {
  runId: string;
  status: RunStatus;
  statusDetail: string | null;
  /** What the run waits for (see WAITING_FOR); null while it steps, and once it has ended. */
  waitingFor: WaitingFor | null;
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
export const DECISIONS = ['approve', 'reject'] as const;
export type Decision = (typeof DECISIONS)[number];
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export type ApprovalOutcome = Exclude<ApprovalStatus, 'pending'>;
/** One mapping from a decision word to the approval's outcome, for every channel. */
export const DECISION_OUTCOME: Record<Decision | 'expire', ApprovalOutcome> = { approve: 'approved', reject: 'rejected', expire: 'expired' };
export const DECISION_CHANNELS = ['api', 'slack', 'web', 'system'] as const;
export type DecisionChannel = (typeof DECISION_CHANNELS)[number];

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

/** A follow-up message is `pending` until the run takes it in at its next turn boundary. */
export const FOLLOW_UP_STATUSES = ['pending', 'accepted'] as const;
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];

/** A follow-up message is waiting in the database; its text is there, not in the signal. */
export interface FollowUpNotice {
  messageId: string;
}

export interface ControlRequest {
  by: string;
  /**
   * A resume: the key of the pause it ends (that pause's `run.paused` event key), as the store shows it. The store
   * can show a pause before the workflow has taken it — its worker wrote the pause and died before the workflow task
   * that decided it completed — and the workflow's next task then takes this signal before the pause: it keeps the
   * resume and ends that pause as soon as it takes it, instead of losing the resume and waiting.
   */
  pause?: string;
}

/** The value the workflow completes with: small, ids and summaries only. */
export interface RunResult {
  status: RunStatus;
  turns: number;
  usage: Usage;
  error: RunError | null;
}

/**
 * Bounds on delegation to sub-agents (contract/agents.ts). A run at depth `maxDepth` (the root is 0) delegates nothing; a run has at most
 * `maxParallelChildren` children running at once (the rest wait their turn) and `maxChildren` over its life.
 * The defaults of the server's maxima (SUBAGENTS_MAX_*), and the parallel bound of runs whose settings carry none.
 */
export const SUBAGENT_BOUNDS = { maxDepth: 3, maxParallelChildren: 4, maxChildren: 50 } as const;

/** The bounds on a run's delegation: the server's maxima (SUBAGENTS_MAX_*), or an agent's own within them. */
export interface SubagentBounds {
  maxDepth: number;
  maxParallelChildren: number;
  maxChildren: number;
}

/** A run's bounds: its agent's own (`subagentBounds` of its definition) where it sets them, never past the server's. */
export function subagentBoundsOf(server: SubagentBounds, own?: Partial<SubagentBounds>): SubagentBounds {
  return {
    maxDepth: Math.min(own?.maxDepth ?? server.maxDepth, server.maxDepth),
    maxParallelChildren: Math.min(own?.maxParallelChildren ?? server.maxParallelChildren, server.maxParallelChildren),
    maxChildren: Math.min(own?.maxChildren ?? server.maxChildren, server.maxChildren),
  };
}

/** A tool call as the workflow sees it: no inputs, only what it needs to decide. */
export interface ToolCallRef {
  toolUseId: string;
  name: string;
  risk: Risk;
  /** Hash of name + canonical input, for approvals binding and loop detection. */
  inputHash: string;
  /** The tool declares itself quick. Histories recorded before 2026-12-05 ran such a call as a local activity; now it is an ordinary one. */
  quick?: true;
  /**
   * The policy this call is decided by when the run's agent overrides it for this tool (`always` → `all`,
   * `never` → `none`, each raised to the server's minimum). Absent: the run's own policy.
   */
  policy?: ApprovalPolicy;
  /** A delegation to the sub-agent named `name`: the call starts a child run (new with sub-agents; recorded histories never carry it). */
  delegate?: true;
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
  /** How long the call took, from the request sent to the response complete (ms): decides where the next one runs. */
  tookMs?: number;
  /**
   * Agents with an output schema, on an answer that gave no other tool calls: `valid` — the final result
   * validated and is stored as the run's output (the run completes); `invalid` — it did not (or the model
   * answered in text), and what was wrong is in the conversation for the next turn. Absent: no output schema.
   */
  output?: 'valid' | 'invalid';
  /**
   * A run with sub-agent runs below it: the recorded spend of its whole tree, this call included, so its
   * cost cap and checkpoint count the tree. Absent for a run with no children (its own spend is the tree's).
   */
  treeCostUsd?: number;
}

export interface ToolOutcome {
  /**
   * The task queue of the worker that now holds the run's workspace, when the call ran elsewhere
   * (the shared queue): the run's next tool calls go there. Absent when nothing changed.
   */
  worker?: string;
  isError: boolean;
  /** The ledger already held a completed result: the tool did not run again. */
  replayed: boolean;
  bytes: number;
}
