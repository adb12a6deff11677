/**
 * A tool call run in a process of its own: what the activity asks of a sandbox, and what goes between the worker
 * and the child over IPC. A call is sandboxed when an earlier attempt of it was lost with its worker (the tool may
 * have killed it): if it kills its process again, only the child dies, not the worker and every other run's steps.
 * The activity keeps everything else (ledger, approvals, workspace sync, events, the result): only `tool.run` moves.
 */
import type { RunInfo } from '../agents/agent-definition';
import type { WorkspaceLimits } from './workspace';

/** One call, as the child needs it to find the tool (by agent and name, in the worker entry's own code) and run it. */
export interface SandboxedCall {
  /** The served agent whose registry holds the tool (`default` for a run that names none). */
  agent: string;
  tool: string;
  /** The call's input as the model gave it: the child parses it with the tool's own schema. */
  input: unknown;
  runId: string;
  run: RunInfo;
  idempotencyKey: string;
  /** The run's workspace folder on this machine, prepared by the worker (the child only reads and writes it). */
  workspaceDir: string;
  workspaceLimits: WorkspaceLimits;
  /** For the child's log lines. */
  toolUseId: string;
  attempt: number;
}

export interface ToolSandbox {
  /**
   * Runs the call in a new process and settles with its output (serialized as the in-process path does), or rejects
   * with the tool's own error (a `ToolError` or `ToolUnavailableError` keeps its class), with `ToolSandboxDied` when
   * the process ended without answering after the tool started, or with `ToolSandboxFailed` when it could not start.
   */
  run(call: SandboxedCall, io: SandboxIo): Promise<string>;
}

export interface SandboxIo {
  /** Aborted when the call is cancelled or times out: the process is killed. */
  signal: AbortSignal;
  /** The tool's own heartbeats, passed on. */
  heartbeat(details?: unknown): void;
  /**
   * A process that shows no sign of life this long once the tool runs (its event loop blocked) is killed and counts
   * as died, as a worker that stops heartbeating is lost: the activity's heartbeat timeout. None: no such bound.
   */
  unresponsiveAfterMs?: number;
}

/** The sandbox process died while the tool ran (a signal, or an exit without an answer): the tool took it down. */
export class ToolSandboxDied extends Error {
  constructor(
    readonly tool: string,
    /** How it ended, for the message: `was killed by SIGKILL`, `exited with code 1`. */
    readonly how: string,
  ) {
    super(`the process running ${tool} ${how} before it answered`);
    this.name = 'ToolSandboxDied';
  }
}

/** The sandbox process could not be started, or ended before it ran the tool: not the call's fault (it runs in the worker). */
export class ToolSandboxFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolSandboxFailed';
  }
}

/**
 * The environment variable that makes a worker entry serve one sandboxed call over IPC instead of starting a worker;
 * its value is the forking worker's pid, which the child dies with (worker/die-with-parent.ts).
 */
export const TOOL_SANDBOX_ENV = 'LONGHAUL_TOOL_SANDBOX';

/** Worker → child: the call. */
export interface SandboxRequest {
  type: 'call';
  call: SandboxedCall;
  /** How often the child says it is alive while the tool runs; none: it does not. */
  aliveEveryMs?: number;
}

/** The class of the tool's error, so the worker gives it the same meaning as in process. */
export type SandboxErrorKind = 'ToolError' | 'ToolUnavailableError' | 'Error';

/** Child → worker. `started` comes just before `tool.run`: a death before it is the sandbox's, after it the tool's. */
export type SandboxMessage =
  | { type: 'started' }
  /**
   * The child could not make the call (the tool is not found there — its MCP server unreachable from the child —,
   * the agents' catalog does not build, the input does not parse with its copy of the tool): the sandbox failed,
   * not the tool, which never ran.
   */
  | { type: 'unserved'; message: string }
  /** A sign of life, every `aliveEveryMs` (the request's) while the tool runs: the event loop turns. */
  | { type: 'alive' }
  | { type: 'heartbeat'; details?: unknown }
  | { type: 'output'; output: string }
  | { type: 'error'; kind: SandboxErrorKind; message: string };
