/**
 * What a developer writes to define an agent and the worker that serves it (`longhaul/worker`).
 * These are code: zod schemas, functions, tools. What the rest of Longhaul sees of them is their
 * data (contract/agents.ts AgentData), published by the worker at start; a version is a hash of it.
 */
import type { z } from 'zod';
import type { ApprovalPolicy, RunLimits, SubagentBounds } from '../../contract/run';
import type { ToolApproval } from '../../contract/agents';
import type { ToolDefinition } from '../tools/tool';

/** The run a tool call or an instructions function works for: who it acts for, and what it was asked. */
export interface RunInfo {
  runId: string;
  /** The user the run belongs to: tools act for them. */
  owner: string;
  /** The run's agent (`default` for a run that named none). */
  agent: string;
  /** The run's structured input (agents with an input schema), else null. */
  input: unknown;
  /** The goal string (for agents with an input schema: the input as JSON). */
  goal: string;
  metadata: Record<string, unknown> | null;
}

/** What an `instructions` function receives: evaluated in the model call's activity, at every call, by the current code. */
export interface InstructionsContext<D = unknown> {
  run: RunInfo;
  deps: D;
}

/** An MCP server's tools for an agent: all of them, or only those named (by the server's own tool names). */
export interface McpToolsRef {
  mcp: string;
  tools?: string[];
}

/** A tool of an agent: a built-in or worker-level tool by name, a tool made with `defineTool`, or an MCP server's tools. */
export type AgentToolRef<D = any> = string | ToolDefinition<any, D> | McpToolsRef;

export interface AgentDefinition<D = any, I = any, O = any> {
  /** Stable: `^[a-z][a-z0-9_-]{0,63}$`. Runs name it; its task queue and its versions are keyed by it. */
  name: string;
  description: string;
  /** The system prompt, or a function of the run's context evaluated at every model call (in an activity, never in the workflow). */
  instructions: string | ((ctx: InstructionsContext<D>) => string | Promise<string>);
  /** The default model, or the default and the models a run may ask for. Absent: the server's DEFAULT_MODEL. */
  model?: string | { default: string; allowed?: string[] };
  /** Built-in tools by name (`workspace_read`, `http_request`, ...), tools made with `defineTool`, MCP servers by name. None: no tools. */
  tools?: AgentToolRef<D>[];
  /** The approval policy (default: the server's DEFAULT_APPROVALS), and per-tool overrides. */
  approvals?: ApprovalPolicy | { policy?: ApprovalPolicy; tools?: Record<string, ToolApproval> };
  /** The run caps' defaults for this agent, and the most a run may ask for (each within the server's maxima). */
  limits?: { defaults?: Partial<RunLimits>; max?: Partial<RunLimits> };
  /** A run's structured input; without it a run takes a `goal` string. */
  input?: z.ZodType<I>;
  /** The final result's schema: the model must give a result that validates. */
  output?: z.ZodType<O>;
  /** Answers failing `output` sent back to the model before the run fails with `output_invalid` (default 2). */
  outputRetries?: number;
  relay?: { segmentMaxTurns?: number; summaryInstruction?: string };
  /** Anthropic prompt caching on the system prompt, tools and conversation (default true). */
  promptCaching?: boolean;
  /**
   * Agents of the same worker definition this one may delegate to. Each reaches the model as a tool named after
   * the agent (input: its input schema, or `{ task }`); a call starts a child run of it. Risk `write`: a
   * delegation spends money, so under the `write` and `all` policies it waits for approval.
   */
  subagents?: SubagentRef[];
  /**
   * Its runs' own bounds on delegation, each a whole number, each clamped to the server's maximum
   * (`SUBAGENTS_MAX_PARALLEL_CHILDREN`, `SUBAGENTS_MAX_DEPTH`, `SUBAGENTS_MAX_CHILDREN`): children at once,
   * the deepest its tree may go (its root at 0), children over a run's life. Absent: the server's.
   */
  subagentBounds?: Partial<SubagentBounds>;
}

/** A sub-agent: its name, or its name with a description shown to the model and caps for each child run. */
export type SubagentRef = string | { agent: string; description?: string; limits?: Partial<RunLimits> };

/** What a worker entry module exports by default: the agents it serves, tools they may name, and the deps every tool receives. */
export interface WorkerDefinition<D = any> {
  agents: AgentDefinition<D>[];
  /** Tools agents may name by string, besides the built-in ones. */
  tools?: ToolDefinition<any, D>[];
  /** Given once (database clients, API clients); every tool and instructions function receives them. */
  deps?: D;
}
