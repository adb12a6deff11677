/**
 * What a tool is. Adding a tool is one file that calls `defineTool` and one line in the
 * registry list: a name, a description, a zod input schema (sent to the model as JSON Schema),
 * a risk level that decides whether a human must approve it, and `run`.
 */
import type { z } from 'zod';
import type { Logger } from '../../shared/logger';
import type { Risk } from '../../contract/run';
import type { Workspace } from './workspace';
import type { RunInfo } from '../agents/agent-definition';

export interface ToolContext<D = any> {
  runId: string;
  /** The run this call works for: its owner (who the tool acts for), agent, input and metadata. */
  run: RunInfo;
  /** The worker's `deps` (defineWorker), given once. */
  deps: D;
  /** Stable across retries of this call: send it to any outside system that accepts one. */
  idempotencyKey: string;
  /** Aborted when the run is cancelled or the activity times out. */
  signal: AbortSignal;
  /** Report liveness (and optionally progress) from long tools. Cheap: calls are throttled. */
  heartbeat(details?: unknown): void;
  workspace: Workspace;
  logger: Logger;
}

export interface ToolDefinition<I = unknown, D = any> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  /**
   * The input's JSON Schema as the model sees it, when it is not derived from `input` (tools that
   * come with a schema of their own, such as MCP tools). Their own server validates the input.
   */
  inputSchema?: Record<string, unknown>;
  /** `read` never needs approval; `write` and `irreversible` may, by the run's policy. */
  risk: Risk | ((input: I) => Risk);
  /**
   * Running this call twice with the same idempotency key has the effect of running it once
   * (the tool or the system behind it deduplicates). Then a call interrupted by a crash is simply
   * re-sent; otherwise a human is asked whether to run it again. A function decides per call (by
   * the system it reaches); one that throws, or an input that does not parse, says no.
   */
  idempotent?: boolean | ((input: I) => boolean);
  /**
   * A call always finishes in tens of milliseconds (reads of the workspace, lookups). Since 2026-12-05 it
   * changes nothing for new runs: every tool call, quick or not, is an ordinary activity on the worker that
   * holds the run's workspace. Runs recorded before then ran quick calls as local activities, and their
   * replay reads it (workflows/legacy-local-steps.ts).
   */
  quick?: boolean;
  /** Returns text or JSON for the model. Throw `ToolError` for failures the model should see. */
  run(input: I, ctx: ToolContext<D>): Promise<unknown>;
}

/**
 * The system behind the tool could not be reached, or went away in the middle of the call (an MCP
 * server died, a connection dropped). Not the model's to handle: the step is retried under the
 * effects ledger, so a call that may have happened is re-sent only if idempotent, else a human decides.
 */
export class ToolUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolUnavailableError';
  }
}

/** A failure the model should hear about (bad path, host not allowed, ...), not a crash. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Identity helper that infers `I` from the schema, so `run` gets a typed input. */
export function defineTool<I, D = any>(def: ToolDefinition<I, D>): ToolDefinition<I, D> {
  return def;
}
