/**
 * The `type` of every ApplicationFailure Longhaul raises, defined once: the thrower and whoever
 * reacts to it import the same constant, so a misspelt type is a compile error, not a silent miss.
 * A run's error code in the API is the type in snake_case (`EffectInDoubt` → `effect_in_doubt`).
 */
import { APPROVAL_POLICIES, RISKS, type ApprovalPolicy, type Risk } from './run';

export const FailureType = {
  /** A non-idempotent tool call was interrupted after it started: a human decides whether to re-run it. */
  EffectInDoubt: 'EffectInDoubt',
  /** The run ended failed; raised by the workflow so Temporal's own status agrees. */
  RunFailed: 'RunFailed',
  /** The API removed a run whose start it could not confirm; the workflow that started anyway stops. */
  RunRecordMissing: 'RunRecordMissing',
  ToolCallNotFound: 'ToolCallNotFound',
  /**
   * The worker about to run a tool call found that it needs approval (by that worker's own definition of
   * the tool and the stricter of the run's policy and the server's `MIN_APPROVALS`) and that no approved
   * decision is recorded for exactly this call: nothing ran. The run asks a human, then calls again.
   */
  ApprovalRequired: 'ApprovalRequired',
  /** The system behind a tool (an MCP server) could not be reached or died mid-call; the step is retried. */
  ToolUnavailable: 'ToolUnavailable',
  /**
   * A tool call's worker was lost on every attempt (it died or stopped heartbeating while the tool ran: a tool that
   * crashes its process, exhausts its memory or blocks its event loop), `maxAttempts` times: the run fails rather than
   * take more workers down with it. Code `tool_worker_lost`; the message names the tool and the attempts. Also raised
   * by the activity, not retried, when such a call's re-run in a sandbox process of its own (TOOL_SANDBOX_SUSPECTS)
   * takes that process down too: the message then names the tool and says it killed its process.
   */
  ToolWorkerLost: 'ToolWorkerLost',
  /** A webhook receiver did not accept a delivery (network error, timeout, non-2xx): retried with backoff. */
  WebhookNotAccepted: 'WebhookNotAccepted',
  /** A webhook that can never be sent (host not allowed, no secret): given up at once. */
  WebhookRefused: 'WebhookRefused',
  /** A schedule fired after it was deleted: nothing to start. */
  ScheduleGone: 'ScheduleGone',
  ModelNotConfigured: 'ModelNotConfigured',
  /** The agent's final answer failed its output schema more times than the agent allows (`outputRetries`): the run fails. */
  OutputInvalid: 'OutputInvalid',
  /**
   * The run's agent (or its pinned version) is not one this worker can serve: not defined here, or its
   * version's data is missing from the database. Not retried on this worker.
   */
  AgentUnavailable: 'AgentUnavailable',
  /** The agent's instructions function threw (or gave no string): the model call is retried, its message redacted. */
  AgentInstructionsFailed: 'AgentInstructionsFailed',
  ModelBadRequest: 'ModelBadRequest',
  ModelAuthError: 'ModelAuthError',
  ModelPermissionDenied: 'ModelPermissionDenied',
  ModelNotFound: 'ModelNotFound',
  ModelPaymentRequired: 'ModelPaymentRequired',
  ModelRequestTooLarge: 'ModelRequestTooLarge',
  ModelRateLimited: 'ModelRateLimited',
  /** One call needs more than a whole minute of a rate limit: it could never run, so it fails rather than wait. */
  ModelCallExceedsRateLimit: 'ModelCallExceedsRateLimit',
  ModelOverloaded: 'ModelOverloaded',
  ModelServerError: 'ModelServerError',
  ModelConnectionError: 'ModelConnectionError',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/**
 * Why a call is in doubt, the first detail of an `EffectInDoubt` failure: an earlier attempt never finished
 * (its worker stopped, or it timed out), or the system behind the tool went away in the middle of the call.
 */
export const IN_DOUBT_CAUSES = ['attempt_lost', 'tool_unavailable'] as const;
export type InDoubtCause = (typeof IN_DOUBT_CAUSES)[number];

/**
 * The detail of an `ApprovalRequired` failure: the risk the executing worker gave the call and the policy it
 * enforced. The run puts exactly these to the human, not what some other worker would make of the call.
 */
export interface ApprovalRequiredDetail {
  risk: Risk;
  policy: ApprovalPolicy;
}

/** The detail, if `detail` is one (a failure from a worker that did not send it has none). */
export function asApprovalRequiredDetail(detail: unknown): ApprovalRequiredDetail | undefined {
  if (typeof detail !== 'object' || detail === null) return undefined;
  const { risk, policy } = detail as Record<string, unknown>;
  if (!RISKS.includes(risk as Risk) || !APPROVAL_POLICIES.includes(policy as ApprovalPolicy)) return undefined;
  return { risk: risk as Risk, policy: policy as ApprovalPolicy };
}
