/**
 * Agents as data: what a worker publishes about each agent it serves, what a run is pinned to, and
 * how runs reach the workers that serve their agent. The definitions themselves (functions, zod
 * schemas, tool code) live in the worker (`longhaul/worker`); the API and the workflow only ever see
 * this. Pure: safe inside the workflow sandbox.
 */
import type { ApprovalPolicy, Risk, RunLimits, SubagentBounds } from './run';

/** An agent's name: stable, part of its task queue and its API identity. */
export const AGENT_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * The built-in agent: what a run that names no agent has always been (the system prompt, every
 * built-in tool and every MCP server's tools). Every worker serves it, on the deployment's own task queue.
 */
export const DEFAULT_AGENT = 'default';

/**
 * The tool through which an agent with an `output` schema gives its final result: its input schema
 * is the output schema, and a call of it that validates ends the run.
 */
export const OUTPUT_TOOL = 'final_result';

/** How many final results failing the output schema go back to the model before the run fails, when the agent does not say. */
export const DEFAULT_OUTPUT_RETRIES = 2;

/** Per-tool approval overrides: `always` asks for every call, `never` for none (the server's minimum still applies), `by_risk` follows the policy. */
export const TOOL_APPROVALS = ['always', 'never', 'by_risk'] as const;
export type ToolApproval = (typeof TOOL_APPROVALS)[number];

/** Where a tool of an agent comes from. */
export const TOOL_SOURCES = ['builtin', 'custom', 'mcp'] as const;
export type ToolSource = (typeof TOOL_SOURCES)[number];

/** A JSON Schema (draft 2020-12, as zod's `toJSONSchema` writes it). */
export type JsonSchema = Record<string, unknown>;

/** A tool as an agent version records it: what the model is offered and what its risk was. */
export interface PublishedTool {
  name: string;
  description: string;
  /** The input schema the model sees (an object schema). */
  inputSchema: JsonSchema;
  /** A fixed risk, or `by_input` when the tool's code decides per call (then the current code decides). */
  risk: Risk | 'by_input';
  /** Per-tool override of the agent's approval policy (absent: by risk). */
  approval?: ToolApproval;
  source: ToolSource;
}

/** A limit an agent sets: the default a run gets, and the most a run may ask for (each within the server's maxima). */
export interface AgentLimits {
  defaults: Partial<RunLimits>;
  max: Partial<RunLimits>;
}

/**
 * An agent version's data, stored once per version and referenced by the runs pinned to it. The
 * version is a hash of exactly this (see agentVersionOf in the worker): anything here that changes
 * makes a new version; code (tool bodies, an instructions function) does not.
 */
export interface AgentData {
  name: string;
  description: string;
  /** The system prompt; null when the agent's instructions are a function, evaluated by the current code at every model call. */
  instructions: string | null;
  model: {
    /** The model a run gets when it asks for none. */
    default: string;
    /** The models a run may ask for (always including the default). */
    allowed: string[];
  };
  tools: PublishedTool[];
  /** The policy the agent's runs get unless the request asks for a stricter one. */
  approvals: ApprovalPolicy;
  limits: AgentLimits;
  /** A run's structured input (null: the run takes a `goal` string). */
  inputSchema: JsonSchema | null;
  /** The final result's schema (null: the final answer is text). */
  outputSchema: JsonSchema | null;
  /** How many answers that fail the output schema are sent back to the model before the run fails (`output_invalid`). */
  outputRetries: number;
  relay: {
    /** Turns per segment before the relay hands off (null: the server's SEGMENT_MAX_TURNS). */
    segmentMaxTurns: number | null;
    /** The instruction that asks for the hand-off summary (null: Longhaul's own). */
    summaryInstruction: string | null;
  };
  /** Cache breakpoints on the system prompt, tools and conversation (Anthropic prompt caching). */
  promptCaching: boolean;
  /**
   * The agents this one may delegate to, each offered to the model as a tool named after it. Absent (never
   * empty) for an agent that delegates nothing, so the versions of agents without sub-agents stay as they were.
   */
  subagents?: PublishedSubagent[];
  /** Its runs' own bounds on delegation, each within the server's maximum (subagentBoundsOf). Absent: the server's. */
  subagentBounds?: Partial<SubagentBounds>;
}

/** A sub-agent as an agent version records it: the tool the model is offered, and the child run's caps. */
export interface PublishedSubagent {
  /** The child agent's name: also the tool's name. */
  agent: string;
  /** What the model is told the tool does (the override, else the child agent's description). */
  description: string;
  /** The tool's input: the child agent's input schema, or DELEGATION_TASK_SCHEMA for an agent that takes a goal. */
  inputSchema: JsonSchema;
  /** Caps for each child run, over the child agent's defaults (each still within its maxima and the server's). */
  limits: Partial<RunLimits>;
}

/** The input of a delegation to an agent without an input schema: the task, which becomes the child run's goal. */
export const DELEGATION_TASK_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { task: { type: 'string', description: 'The task for this agent, with everything it needs to know: it sees nothing else of this conversation.' } },
  required: ['task'],
  additionalProperties: false,
};

/**
 * The key of a delegation: the parent's tool call. The child run's id is derived from it (childRunIdOf), so a
 * retried or replayed parent finds the child it started, never a second one.
 */
export function delegationKey(parentRunId: string, turn: number, toolUseId: string): string {
  return `${parentRunId}:turn:${turn}:tool:${toolUseId}`;
}

/** An agent version: its data and the hash that names it. */
export interface AgentVersion {
  name: string;
  version: string;
  data: AgentData;
  /** When a worker first published this version. */
  publishedAt: string;
}

/** A worker process that serves an agent, as it last said so. */
export interface AgentWorker {
  /** The worker process's identity (host-pid-random). */
  identity: string;
  agent: string;
  version: string;
  /** When it last said it is alive (it does every AGENT_WORKER_BEAT_SEC). */
  seenAt: string;
}

/** How often a worker says it still serves its agents. */
export const AGENT_WORKER_BEAT_SEC = 20;
/** A worker not heard from for this long no longer counts as serving its agents. */
export const AGENT_WORKER_LIVE_SEC = 3 * AGENT_WORKER_BEAT_SEC;

/**
 * The task queue of an agent's runs: workflows and their model and tool calls. Only workers that serve
 * the agent poll it, so a run is never picked up by a worker without its agent; with none live, it
 * waits queued. The default agent keeps the deployment's own queue (as every run had before agents).
 */
export function agentTaskQueue(taskQueue: string, agent: string | null | undefined): string {
  return !agent || agent === DEFAULT_AGENT ? taskQueue : `${taskQueue}.agent.${agent}`;
}
