/**
 * Every key two parts of Longhaul must agree on, built in one place from stable workflow data
 * (run id = workflow id, turn, tool_use id, approval id), never from the Temporal run id or
 * anything random: a retry, a replacement worker or a new segment after continue-as-new all derive
 * the same key for the same thing. Changing any string here orphans keys already stored.
 */
import type { LimitName, ToolRefusal } from './events';

/** Effects ledger: a paid-for model response or a side effect happens once per key. */
export const ledgerKeys = {
  modelCall: (runId: string, turn: number): string => `${runId}:turn:${turn}:model`,
  toolCall: (runId: string, turn: number, toolUseId: string): string => `${runId}:turn:${turn}:tool:${toolUseId}`,
  summary: (runId: string, segment: number): string => `${runId}:segment:${segment}:summary`,
};

/** The `_meta` key under which an MCP tool call carries its idempotency key (the ledger key). */
export const MCP_IDEMPOTENCY_META_KEY = 'longhaul/idempotencyKey';

/** Transcript messages (the model's context), keyed per run. */
export const messageKeys = {
  assistant: (turn: number): string => `assistant:${turn}`,
  toolResult: (toolUseId: string): string => `tool_result:${toolUseId}`,
  userMessage: (messageId: string): string => `user:${messageId}`,
  summary: (segment: number): string => `summary:${segment}`,
  /** Longhaul's own instruction to the model after `turn` (an answer in text where a final result was due). */
  instruction: (turn: number): string => `instruction:${turn}`,
};

/** A run continued by follow-ups ends once per lap: lap 0 keeps the keys runs always had. */
const lapped = (key: string, lap = 0): string => (lap === 0 ? key : `${key}@${lap}`);

/** Event keys: an append whose key a run already has writes nothing, so retried writers record once. */
export const eventKeys = {
  queued: (): string => 'run.queued',
  started: (): string => 'run.started',
  completed: (lap?: number): string => lapped('run.completed', lap),
  failed: (lap?: number): string => lapped('run.failed', lap),
  cancelled: (lap?: number): string => lapped('run.cancelled', lap),
  /** The segment cap is keyed by the allowance it hit, so each grant can be exceeded again. */
  limitExceeded: (limit: LimitName, allowance?: number, lap?: number): string =>
    lapped(allowance === undefined ? `limit.exceeded:${limit}` : `limit.exceeded:${limit}:${allowance}`, lap),
  userMessage: (messageId: string): string => `user.message:${messageId}`,
  attention: (requestId: string): string => `attention.needed:${requestId}`,
  /** The reminder at half the request's expiry, once. */
  attentionReminder: (requestId: string): string => `attention.needed:${requestId}:reminder`,
  handoff: (nextSegment: number): string => `run.handoff:${nextSegment}`,
  /** A run moved to its agent's version `to` before the model call of `turn`. */
  upgraded: (turn: number, to: string): string => `run.upgraded:${turn}:${to}`,
  paused: (segment: number, turn: number, pauseCount: number): string => `run.paused:${segment}:${turn}:${pauseCount}`,
  resumed: (segment: number, turn: number, pauseCount: number): string => `run.resumed:${segment}:${turn}:${pauseCount}`,
  stalled: (lastProgressAt: string): string => `run.stalled:${lastProgressAt}`,
  llmMessage: (turn: number): string => `llm.message:${turn}`,
  llmRetry: (turn: number, attempt: number): string => `llm.retry:${turn}:${attempt}`,
  /** The `wait`-th time (from 0) the call of `turn` found no room in the rate limits. */
  modelThrottled: (turn: number, wait: number): string => `model.throttled:${turn}:${wait}`,
  /** The same for the relay summary that ends `segment`. */
  summaryThrottled: (segment: number, wait: number): string => `model.throttled:summary:${segment}:${wait}`,
  /** The owner's daily budget stopped the run; keyed like the pause it causes, which may recur. */
  budgetExceeded: (segment: number, turn: number, pauseCount: number): string => `limit.exceeded:userDailyBudget:${segment}:${turn}:${pauseCount}`,
  toolStarted: (toolUseId: string): string => `tool.started:${toolUseId}`,
  /** One result per tool call, whoever writes it (the tool, a rejection, an answer to ask_user). */
  toolResult: (toolUseId: string): string => `tool.result:${toolUseId}`,
  /** The executing worker refused the call (once per reason: a retried refusal records nothing new). */
  toolRefused: (toolUseId: string, reason: ToolRefusal): string => `tool.refused:${toolUseId}:${reason}`,
  approvalRequested: (approvalId: string): string => `approval.requested:${approvalId}`,
  /** A workspace's n-th restore and the hibernation that ends it (`cycle` counts restores). */
  workspaceRestored: (cycle: number): string => `workspace.restored:${cycle}`,
  workspaceHibernated: (cycle: number): string => `workspace.hibernated:${cycle}`,
  workspaceReleased: (): string => 'workspace.released',
  approvalSettled: (approvalId: string): string => `approval.settled:${approvalId}`,
  inputRequested: (requestId: string): string => `input.requested:${requestId}`,
  /** A delegation's child run was created (once per call), and ended (once per call). */
  subagentStarted: (toolUseId: string): string => `subagent.started:${toolUseId}`,
  subagentEnded: (toolUseId: string): string => `subagent.ended:${toolUseId}`,
};
