/** Builds the adapters activities use, from config: store, bus, models, tools, pricing. */
import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps } from '../activities';
import { AnthropicModel } from '../activities/model/anthropic-model';
import { modelFetch } from '../activities/model/http-transport';
import { DEMO_MODEL, DemoModel } from '../activities/model/demo-model';
import type { ModelAdapter } from '../activities/model/model-adapter';
import { builtinTools } from '../activities/tools/builtin';
import type { ToolDefinition } from '../activities/tools/tool';
import type { ToolSandbox } from '../activities/tools/tool-sandbox';
import type { Bus } from '../shared/bus/bus';
import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { PricingTable } from '../shared/pricing';
import { openBlobStore } from '../shared/workspaces/open-blob-store';
import { WorkspaceSync } from '../shared/workspaces/workspace-sync';
import { workerIdentity, workerQueueName } from './worker-queue';
import { notifierFromConfig, type ApprovalNotifier } from '../shared/slack/notifier';
import type { Store } from '../shared/store';
import { FailureType } from '../contract/failures';
import type { AgentCatalog } from '../activities/agents/agent-catalog';
import { loadAgentCatalog } from '../activities/agents/load-agents';
import { DEFAULT_AGENT } from '../contract/agents';
import { noWorkerMetrics, type WorkerMetrics } from '../activities/worker-metrics';

export function createModelResolver(config: Config): (model: string) => ModelAdapter {
  const demo = new DemoModel({ msPerWord: config.model.demoStreamDelayMs });
  const anthropic = config.model.apiKey
    ? new AnthropicModel({ apiKey: config.model.apiKey, baseUrl: config.model.baseUrl, fetch: modelFetch(config.model.httpClient), requestTimeoutMs: config.activities.modelCallTimeoutSec * 1000 })
    : undefined;
  return (model) => {
    if (model === DEMO_MODEL) return demo;
    if (!anthropic) {
      throw ApplicationFailure.create({
        message: `model ${model} needs ANTHROPIC_API_KEY, which this worker does not have`,
        type: FailureType.ModelNotConfigured,
        nonRetryable: true,
      });
    }
    return anthropic;
  };
}

/** Longhaul's own tools, as this deployment configures them. */
export function builtinToolsFor(config: Config): ToolDefinition<any>[] {
  return builtinTools({
    http: {
      allowedHosts: config.tools.httpAllowedHosts,
      idempotentHosts: config.tools.httpIdempotentHosts,
      timeoutSec: config.tools.httpTimeoutSec,
      maxResponseBytes: Math.min(64 * 1024, config.tools.outputMaxBytes),
    },
  });
}

export function createActivityDeps(opts: {
  config: Config;
  store: Store;
  bus: Bus;
  logger: Logger;
  /** Extra tools a deployment adds next to the built-in ones (used when no `agents` are given). */
  extraTools?: ToolDefinition<any>[];
  modelFor?: (model: string) => ModelAdapter;
  notifier?: ApprovalNotifier;
  /** This worker's own task queue, where tool calls of the runs whose workspaces it holds are sent. */
  workerQueue?: string;
  /** This worker process's identity (worker-queue.ts): its workspace folder is `workspaces/w-<identity>`. */
  workerIdentity?: string;
  /** Where model and tool measurements go (a worker passes the SDK runtime's meter); none by default. */
  metrics?: WorkerMetrics;
  /** The worker definition's `deps`, given to every tool and instructions function. */
  workerDeps?: unknown;
  /** The agents this worker serves (loadAgentCatalog: the default one included); `tools` is the default agent's. */
  agents?: AgentCatalog;
  /** Where a suspect tool call runs (a process of its own); none: in this process. */
  toolSandbox?: ToolSandbox;
}): ActivityDeps {
  const { config } = opts;
  const identity = opts.workerIdentity ?? workerIdentity();
  const workspaces = new WorkspaceSync({
    store: opts.store,
    blobs: openBlobStore(config, opts.store),
    dataDir: config.dataDir,
    holder: opts.workerQueue ?? workerQueueName(config.temporal.taskQueue, identity),
    caps: {
      maxFileBytes: config.tools.workspaceMaxFileBytes,
      maxTotalBytes: config.tools.workspaceMaxTotalBytes,
      maxEntries: config.tools.workspaceMaxEntries,
      maxDepth: config.tools.workspaceMaxDepth,
    },
    logger: opts.logger,
    identity,
  });
  // Without a catalog (tests, tools): the default agent alone, with the extra tools as the worker's own.
  const agents = opts.agents ?? loadAgentCatalog({ config, builtinTools: builtinToolsFor(config), definition: { agents: [], tools: opts.extraTools ?? [] } });
  const defaultAgent = agents.get(DEFAULT_AGENT);
  if (!defaultAgent) throw new Error(`the agent catalog has no ${DEFAULT_AGENT} agent: build it with loadAgentCatalog`);
  return {
    store: opts.store,
    bus: opts.bus,
    modelFor: opts.modelFor ?? createModelResolver(config),
    tools: defaultAgent.tools,
    notifier: opts.notifier ?? notifierFromConfig(config),
    pricing: new PricingTable(config.model.pricing),
    workspaces,
    logger: opts.logger,
    metrics: opts.metrics ?? noWorkerMetrics,
    workerDeps: opts.workerDeps,
    agents,
    toolSandbox: opts.toolSandbox,
    settings: {
      dataDir: config.dataDir,
      maxTokens: config.model.maxTokens,
      toolOutputMaxBytes: config.tools.outputMaxBytes,
      workspace: { maxFileBytes: config.tools.workspaceMaxFileBytes, maxTotalBytes: config.tools.workspaceMaxTotalBytes },
      webhooks: { secret: config.webhooks.secret, allowedHosts: config.webhooks.allowedHosts },
      config,
    },
  };
}
