/**
 * The run transcript's events: every type with the shape of its `data`, defined once. Writers build
 * drafts through `EventDraft` and readers narrow `RunEvent` by `type`, so a misspelt type or a
 * missing field is a compile error on both sides. Pure: safe inside the workflow sandbox.
 */
import type { WorkspaceReleaseReason } from './workspace';
import type { ModelCallErrorCode } from './errors';
import type { ApprovalKind, ApprovalPolicy, CapacityLimit, DecisionChannel, PauseCause, PendingApproval, Risk, RunError, RunLimits, Usage } from './run';

/** Caps that end (or, for segments, pause) a run; `limit.exceeded` names one of these. */
export const LIMIT_NAMES = ['maxSteps', 'maxCostUsd', 'maxDurationSec', 'maxSegments', 'loop', 'userDailyBudget', 'teamDailyBudget'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** What a run waits for its owner to do when it asks for attention. */
export const ATTENTION_KINDS = ['approval', 'question'] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/** Why a model call failed, as `llm.retry` reports it: a stable code, the provider's words, its HTTP status. */
export interface ModelCallError {
  code: ModelCallErrorCode;
  message: string;
  status?: number;
}

/** Why the worker about to run a tool call refused it (`tool.refused`). */
export type ToolRefusal = 'approval_required' | 'rerun_not_approved';
export const TOOL_REFUSALS = ['approval_required', 'rerun_not_approved'] as const satisfies readonly ToolRefusal[];

/** A tool call the model asked for, as `llm.message` reports it. */
export interface ToolCallRequest {
  id: string;
  name: string;
  input: unknown;
  risk: Risk;
}

/** Each event type → its `data`. docs/api.md explains when each is written. */
export interface EventDataMap {
  /** `agent`, `agentVersion`: the run's agent and the version it is pinned to (absent: a run that names no agent). */
  'run.queued': { goal: string; model: string; approvals: ApprovalPolicy; limits: RunLimits; agent?: string; agentVersion?: string };
  'run.started': { model: string; limits: RunLimits; approvals: ApprovalPolicy };
  'llm.message': { turn: number; model: string; text: string; toolCalls: ToolCallRequest[]; stopReason: string; usage: Usage };
  /**
   * The model call of `turn` is being made again: discard text streamed for it so far. `error`:
   * why the previous attempt failed (absent on events recorded before it was reported).
   */
  'llm.retry': { turn: number; attempt: number; error?: ModelCallError };
  /** The shared rate limits have no room for the call of `turn` yet: the run sleeps `waitMs`, then asks again. */
  'model.throttled': { turn: number; waitMs: number; limit: CapacityLimit };
  'tool.started': { turn: number; toolUseId: string; name: string; input: unknown; risk: Risk };
  'tool.completed': { turn: number; toolUseId: string; name: string; output: string; bytes: number; truncated: boolean };
  /** `skipped`: the tool did not run (rejected, expired, or in doubt and not re-run). */
  'tool.failed': { turn: number; toolUseId: string; name: string; error: string; bytes?: number; truncated?: boolean; skipped?: boolean };
  /**
   * The worker about to run the call refused it, with no effect: `approval_required` — by its own definition
   * of the tool (`risk`) and the policy it enforces (`policy`: the stricter of the run's and `MIN_APPROVALS`)
   * the call needs an approval no one recorded; `rerun_not_approved` — a re-run of a call in doubt without a
   * recorded approval to re-run it. The run then asks a human.
   */
  'tool.refused': { turn: number; toolUseId: string; name: string; risk: Risk; policy: ApprovalPolicy; reason: ToolRefusal };
  /** The pending approval as the run's progress shows it (`input` cut to a preview when long). */
  'approval.requested': Omit<PendingApproval, 'requestedAt'>;
  'approval.decided': {
    approvalId: string;
    kind: ApprovalKind;
    tool: string | null;
    decision: 'approved' | 'rejected';
    by: string | null;
    channel: DecisionChannel | null;
    comment: string | null;
    /** Decided in Slack: the Slack account that clicked (`by` is the Longhaul user it maps to). */
    slackUser?: string;
  };
  'approval.expired': { approvalId: string; kind: ApprovalKind; tool: string | null };
  'input.requested': { requestId: string; question: string; expiresAt: string };
  'input.received': { requestId: string; text: string | null; by: string | null };
  'input.expired': { requestId: string };
  'run.paused': { turn: number; by: string; reason: string; cause?: PauseCause };
  'run.resumed': { turn: number; by: string };
  'run.handoff': { segment: number; summaryChars: number; turn: number };
  'run.stalled': { lastProgressAt: string; minutes: number };
  'limit.exceeded': { limit: LimitName; value: number };
  /** `output`: the validated structured output, for agents with an output schema. */
  'run.completed': { turns: number; usage: Usage; output?: unknown };
  /** The run moved to its agent's current version (POST /api/runs/:id/upgrade), before the model call of `turn`. */
  'run.upgraded': { agent: string; from: string; to: string; turn: number };
  'run.failed': { error: RunError };
  'run.cancelled': { turn: number; reason?: string };
  /** The run waits for its owner, who is not watching it (no open WebSocket or SSE anywhere): tell them elsewhere. */
  'attention.needed': { kind: AttentionKind; requestId: string; owner: string; expiresAt: string; reminder?: boolean };
  /** A follow-up message from a person joined the conversation, before the model call of `turn`. */
  'user.message': { messageId: string; text: string; by: string; turn: number };
  /** The `toolUseId` call of `turn` delegated to sub-agent `agent`: its child run `childRunId` was created (and is starting). */
  'subagent.started': { turn: number; toolUseId: string; childRunId: string; agent: string; agentVersion: string };
  /** The child run completed; its output (or final text) is the call's result. `costUsd`: the child run's own recorded spend. */
  'subagent.completed': { turn: number; toolUseId: string; childRunId: string; agent: string; costUsd: number };
  /** The child run failed or was cancelled: the call's result is a tool error saying why, and the run goes on. */
  'subagent.failed': { turn: number; toolUseId: string; childRunId: string; agent: string; status: 'failed' | 'cancelled'; error: string; costUsd: number };
  /** A worker materialised the run's workspace from its durable copy before a tool call. */
  'workspace.restored': { worker: string; files: number; bytes: number; ms: number };
  /** The run waited long enough that the worker dropped its local copy; the durable copy remains. */
  'workspace.hibernated': { files: number; bytes: number };
  /** The workspace's durable copy was deleted. */
  'workspace.released': { reason: WorkspaceReleaseReason };
}

export type EventType = keyof EventDataMap;
export type EventData<T extends EventType> = EventDataMap[T];

/** Every event type, in the order a run usually meets them (for docs, schemas and filters). */
export const EVENT_TYPES = [
  'run.queued',
  'run.started',
  'llm.message',
  'llm.retry',
  'model.throttled',
  'tool.started',
  'tool.completed',
  'tool.failed',
  'tool.refused',
  'approval.requested',
  'approval.decided',
  'approval.expired',
  'input.requested',
  'input.received',
  'input.expired',
  'run.paused',
  'run.resumed',
  'run.handoff',
  'run.upgraded',
  'run.stalled',
  'limit.exceeded',
  'run.completed',
  'run.failed',
  'run.cancelled',
  'user.message',
  'attention.needed',
  'subagent.started',
  'subagent.completed',
  'subagent.failed',
  'workspace.restored',
  'workspace.hibernated',
  'workspace.released',
] as const satisfies readonly EventType[];

// Compile-time check that the list above names every type of the map, and nothing else.
type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const _everyTypeListed: [Missing] extends [never] ? true : Missing = true;
void _everyTypeListed;

/** A recorded event: `seq` is gap-free from 1 per run. Narrow on `type` to read `data`. */
export type RunEvent = { [T in EventType]: { seq: number; type: T; at: string; data: EventDataMap[T] } }[EventType];
export type RunEventOf<T extends EventType> = Extract<RunEvent, { type: T }>;

/** An event the workflow or an activity wants recorded; `key` makes the write idempotent across retries. */
export type EventDraft = { [T in EventType]: { key: string; type: T; data: EventDataMap[T] } }[EventType];
export type EventDraftOf<T extends EventType> = Extract<EventDraft, { type: T }>;

/** Builds a draft with its data checked against its type. */
export function draft<T extends EventType>(key: string, type: T, data: EventDataMap[T]): EventDraftOf<T> {
  return { key, type, data } as EventDraftOf<T>;
}

/** The events that end a run (or a lap of it): one of them is its last until a follow-up continues it. */
export const RUN_ENDING_EVENT_TYPES = ['run.completed', 'run.failed', 'run.cancelled'] as const satisfies readonly EventType[];
export type RunEndingEventType = (typeof RUN_ENDING_EVENT_TYPES)[number];

export function isRunEnding(type: EventType): type is RunEndingEventType {
  return (RUN_ENDING_EVENT_TYPES as readonly EventType[]).includes(type);
}

/** Events a webhook can be told of (a subscriber picks some with `events`, or gets all). */
export const WEBHOOK_EVENT_TYPES = ['run.completed', 'run.failed', 'run.cancelled', 'approval.requested', 'input.requested', 'run.stalled', 'attention.needed'] as const satisfies readonly EventType[];
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * A child run's (sub-agent's) events that its root's webhook subscribers hear of too, labelled with the sub-agent
 * (`data.subagent`): what asks a human to act.
 */
export const SUBAGENT_ROLLUP_EVENTS = ['approval.requested', 'input.requested', 'attention.needed'] as const satisfies readonly WebhookEventType[];

/** Where one webhook delivery is: `failed` once its retries are spent. */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

