/**
 * `longhaul/worker`: what a developer imports to define agents and run the worker that serves them.
 *
 *   import { defineAgent, defineTool, defineWorker } from 'longhaul/worker';
 *   export default defineWorker({ agents: [...], tools: [...], deps: {...} });
 *
 * `longhaul worker <entry>` / `longhaul dev <entry>` run such an entry; `startWorker(definition)` runs
 * one from a script of your own. Configuration comes from the environment, as for `npm run worker`.
 */
import type { WorkerDefinition } from '../activities/agents/agent-definition';
import { usePackagedWorkflowBundle } from './packaged-bundle';
import type * as WorkerProcess from './run-worker-process';

export { defineAgent, defineWorker, AgentDefinitionError } from '../activities/agents/define';
export { defineTool, ToolError, ToolUnavailableError } from '../activities/tools/tool';
export type { ToolDefinition, ToolContext } from '../activities/tools/tool';
export type { Workspace } from '../activities/tools/workspace';
export type { AgentDefinition, AgentToolRef, InstructionsContext, McpToolsRef, RunInfo, WorkerDefinition } from '../activities/agents/agent-definition';
export type { ToolApproval } from '../contract/agents';
export type { ApprovalPolicy, Risk, RunLimits } from '../contract/run';
export type { Logger } from '../shared/logger';

/**
 * Runs a worker process serving `definition` until SIGTERM or SIGINT, then drains (in-flight
 * activities get WORKER_SHUTDOWN_GRACE_SEC) and resolves. Configuration is read from the
 * environment, as `npm run worker` reads it (TEMPORAL_ADDRESS, DATABASE_URL, ...); a tracing
 * exporter and the health endpoint start when configured. Uses the workflow bundle the package ships.
 */
export async function startWorker(definition: WorkerDefinition): Promise<void> {
  usePackagedWorkflowBundle();
  // Loaded here, not at import: a module that only defines agents (and its tests) stays light.
  const { runWorkerProcess } = require('./run-worker-process') as typeof WorkerProcess;
  await runWorkerProcess({ definition });
}
