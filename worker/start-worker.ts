/**
 * Starts a polling worker on a foundation: its own native connection, the activities built from
 * injected adapters, and (unless told otherwise) the sweeper schedule. One way for `npm start`,
 * `npm run worker` and the tests. It serves the default agent on the deployment's task queue and each
 * agent of its definition on that agent's own queue (one workflow Worker each, sharing the activities
 * and the resource controller), and publishes them (publish-agents.ts). `stop()` drains: no new tasks,
 * in-flight activities get WORKER_SHUTDOWN_GRACE_SEC.
 */
import { ResourceBasedController, Runtime, type NativeConnection, type Worker, type WorkerInterceptors } from '@temporalio/worker';
import { createWorkerMetrics } from '../activities/worker-metrics';
import type { ModelAdapter } from '../activities/model/model-adapter';
import type { ToolDefinition } from '../activities/tools/tool';
import type { ToolSandbox } from '../activities/tools/tool-sandbox';
import type { AgentCatalog } from '../activities/agents/agent-catalog';
import type { WorkerDefinition } from '../activities/agents/agent-definition';
import { loadAgentCatalog } from '../activities/agents/load-agents';
import { agentTaskQueue, DEFAULT_AGENT } from '../contract/agents';
import type { Config } from '../shared/config';
import type { Foundation } from '../shared/foundation';
import type { Logger } from '../shared/logger';
import type { ApprovalNotifier } from '../shared/slack/notifier';
import { McpPool } from '../shared/mcp/mcp-pool';
import { packageVersion } from '../shared/package-info';
import { connectWorker } from '../shared/temporal/connection';
import { timeConnectionWaits } from '../shared/store/connection-waits';
import { loadMcpToolsByServer } from '../activities/tools/mcp-tools';
import { builtinToolsFor, createActivityDeps } from './activity-deps';
import { publishAgents } from './agents/publish-agents';
import { openBlobStore } from '../shared/workspaces/open-blob-store';
import { workerIdentity, workerQueueName } from './worker-queue';
import { startWorkspaceJanitor } from './workspace-janitor';
import { checkModelEndpoint } from './check-model-endpoint';
import { createActivityWorker, createWorker } from './create-worker';
import { requestShutdown } from './shutdown';
import { ensureSweeperSchedule } from './sweeper-schedule';
import { startWebhookDispatcher } from './webhook-dispatcher';
import { bundleWorkflows } from './workflow-bundle';

export interface RunningWorker {
  /** The Worker of the deployment's task queue (the default agent's runs). */
  worker: Worker;
  /** The agents this process serves (the default one included). */
  agents: AgentCatalog;
  /** This process's identity, as it publishes its agents under (worker-queue.ts). */
  identity: string;
  /** Settles when every Worker of the process has stopped (drained), or rejects with the first that failed. */
  done: Promise<void>;
  /** Asks every Worker of the process to drain, without waiting. */
  drain(): void;
  stop(): Promise<void>;
}

/** The models whose counters start at 0: the default and those with rate limits (`*` stands for the default). */
function knownModels(config: Config): { models: string[]; throttledModels: string[] } {
  const limited = [...config.model.rateLimits.keys()].map((m) => (m === '*' ? config.model.defaultModel : m));
  return { models: [config.model.defaultModel, ...limited], throttledModels: limited };
}

export async function startWorker(opts: {
  config: Config;
  foundation: Foundation;
  logger: Logger;
  /** The worker entry's agents, tools and deps (defineWorker); none: the default agent alone. */
  definition?: WorkerDefinition;
  /** Tools a deployment adds next to the built-in ones: worker-level tools of the definition, so the default agent has them. */
  extraTools?: ToolDefinition<any>[];
  modelFor?: (model: string) => ModelAdapter;
  notifier?: ApprovalNotifier;
  interceptors?: WorkerInterceptors;
  /** Create or update the sweeper schedule of this task queue (every real worker does). */
  sweeperSchedule?: boolean;
  /** Where a suspect tool call runs (runWorkerProcess forks its entry); none: in this process, after a pause. */
  toolSandbox?: ToolSandbox;
}): Promise<RunningWorker> {
  const { config, foundation, logger } = opts;
  if (opts.sweeperSchedule !== false) await ensureSweeperSchedule(foundation.client, config);
  // MCP servers' tools join the built-in ones; their connections are this worker's, pooled.
  const mcp = new McpPool(config.tools.mcpServers, logger, { name: 'longhaul', version: packageVersion() });
  const mcpTools = await loadMcpToolsByServer(mcp, logger, { timeoutMs: config.activities.toolCallTimeoutSec * 1000 });
  const definition: WorkerDefinition = { ...opts.definition, agents: opts.definition?.agents ?? [], tools: [...(opts.definition?.tools ?? []), ...(opts.extraTools ?? [])] };
  let agents: AgentCatalog;
  try {
    agents = loadAgentCatalog({ definition, config, builtinTools: builtinToolsFor(config), mcp: { tools: mcpTools }, logger });
  } catch (err) {
    await mcp.close();
    throw err;
  }
  const connection: NativeConnection = await connectWorker(config);
  const identity = workerIdentity();
  const workerQueue = workerQueueName(config.temporal.taskQueue, identity);
  const deps = createActivityDeps({
    workerQueue,
    workerIdentity: identity,
    config,
    store: foundation.store,
    bus: foundation.bus,
    logger,
    agents,
    workerDeps: definition.deps,
    modelFor: opts.modelFor,
    notifier: opts.notifier,
    toolSandbox: opts.toolSandbox,
    metrics: createWorkerMetrics(Runtime.instance().metricMeter, knownModels(config)),
  });
  // Waits for a pooled connection are the first sign of more work than the pool (README, "Sizing a worker").
  const pool = foundation.store.opened.pool;
  if (pool) timeConnectionWaits(pool, (ms) => deps.metrics.databaseConnectionWait(ms));
  // WORKER_TUNER=resource: one memory and CPU target for the whole process, all of its Workers.
  const resourceController =
    config.worker.tuner === 'resource' ? ResourceBasedController.create({ targetMemoryUsage: config.worker.targetMemoryUsage, targetCpuUsage: config.worker.targetCpuUsage }) : undefined;
  // Said before polling starts, so a database that cannot be written stops the start before any Worker exists.
  const published = await publishAgents({ store: foundation.store, identity, agents, logger }).catch(async (err: unknown) => {
    await connection.close();
    await mcp.close();
    throw err;
  });
  // Published, so from here a start that fails withdraws again: else the agents read as served (and their version as
  // current) with no Worker polling, until the beats are old, or for good in a process that lives on (`longhaul dev`).
  const { worker, agentWorkers, ownQueue, janitor, dispatcher } = await startProcessWorkers().catch(async (err: unknown) => {
    await published.withdraw();
    // Workers already made hold the connection, and closing it then throws: the start's own error is the one to tell.
    await connection.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'could not close the worker connection after a failed start'));
    await mcp.close();
    throw err;
  });
  async function startProcessWorkers() {
    const others = agents.all().filter((a) => a.name !== DEFAULT_AGENT);
    // A worker without a prebuilt bundle bundles the workflows once for all of its workflow Workers.
    const workflowCode = !config.temporal.workflowBundlePath && others.length > 0 ? await bundleWorkflows() : undefined;
    const worker = await createWorker({ connection, config, deps, interceptors: opts.interceptors, resourceController, workflowCode });
    // Each other agent's runs: on its own queue, which only workers serving it poll.
    const agentWorkers: Worker[] = [];
    for (const agent of others) {
      const taskQueue = agentTaskQueue(config.temporal.taskQueue, agent.name);
      agentWorkers.push(await createWorker({ connection, config, deps, taskQueue, interceptors: opts.interceptors, resourceController, workflowCode }));
    }
    // This worker's own queue: tool calls of runs whose workspaces it holds come here (no workflows).
    const ownQueue = await createActivityWorker({ connection, config, deps, taskQueue: workerQueue, interceptors: opts.interceptors, resourceController });
    const janitor = await startWorkspaceJanitor({ activityDeps: deps, blobs: openBlobStore(config, foundation.store), config, logger });
    // Not awaited: a slow or dead endpoint is reported, never a reason to delay polling.
    if (!opts.modelFor) void checkModelEndpoint(config, logger);
    const dispatcher = startWebhookDispatcher({ store: foundation.store, client: foundation.client, config, logger });
    return { worker, agentWorkers, ownQueue, janitor, dispatcher };
  }
  // The process's Workers run and stop together: when one stops (drained, or failed), the others drain too.
  const all = [worker, ownQueue, ...agentWorkers];
  const drain = () => all.forEach(requestShutdown);
  const failures: unknown[] = [];
  const runs = all.map((w) =>
    w
      .run()
      .catch((err: unknown) => {
        logger.error({ err, taskQueue: w.options.taskQueue }, 'a worker of this process stopped with an error: the others drain');
        failures.push(err);
      })
      .finally(drain),
  );
  const done = Promise.all(runs)
    .finally(async () => {
      await published.withdraw();
      await janitor.stop();
      await dispatcher.stop();
      await connection.close();
      await mcp.close();
    })
    .then(() => {
      if (failures.length) throw failures[0];
    });
  return {
    worker,
    agents,
    identity,
    done,
    drain,
    stop: async () => {
      drain();
      await done;
    },
  };
}
