/** Everything activities touch from the outside world, injected so tests can swap any part. */
import type { Bus } from '../shared/bus/bus';
import type { Config } from '../shared/config';
import type { ApprovalNotifier } from '../shared/slack/notifier';
import type { Logger } from '../shared/logger';
import type { PricingTable } from '../shared/pricing';
import type { Store } from '../shared/store';
import type { WorkspaceSync } from '../shared/workspaces/workspace-sync';
import type { ModelAdapter } from './model/model-adapter';
import type { ToolRegistry } from './tools/registry';
import type { AgentCatalog } from './agents/agent-catalog';
import type { WorkspaceLimits } from './tools/workspace';
import type { ToolSandbox } from './tools/tool-sandbox';
import type { WorkerMetrics } from './worker-metrics';

export interface ActivityDeps {
  store: Store;
  bus: Bus;
  /** The adapter for a model name ("demo" or a Claude model). */
  modelFor: (model: string) => ModelAdapter;
  /** The default agent's tools (runs that name no agent): the built-in ones, the worker's own and every MCP server's. */
  tools: ToolRegistry;
  /** The agents this worker serves, the default one included (see agent-catalog.ts). */
  agents: AgentCatalog;
  /** Announces approval requests to approvers (Slack) and updates them once settled. */
  notifier: ApprovalNotifier;
  pricing: PricingTable;
  /** This worker's local copies of run workspaces, kept in step with their durable copies. */
  workspaces: WorkspaceSync;
  logger: Logger;
  /** Model and tool call measurements (the SDK's metric meter in a worker). */
  metrics: WorkerMetrics;
  /** The `deps` of the worker's definition (defineWorker), given to every tool and instructions function. */
  workerDeps: unknown;
  /**
   * Where a suspect tool call (an earlier attempt's worker was lost while running it) runs: a process of its own, so
   * a tool that kills its process again takes only that one down. None (a worker not started by runWorkerProcess,
   * or TOOL_SANDBOX_SUSPECTS off): in this process, after a pause.
   */
  toolSandbox?: ToolSandbox;
  settings: {
    dataDir: string;
    maxTokens: number;
    toolOutputMaxBytes: number;
    workspace: WorkspaceLimits;
    webhooks: { secret?: string; allowedHosts: string[] };
    /** The deployment's config, for building the input of runs a schedule starts. */
    config: Config;
  };
}
