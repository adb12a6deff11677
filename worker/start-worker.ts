/**
 * Starts a polling worker on a foundation: its own native connection, the activities built from
 * injected adapters, and (unless told otherwise) the sweeper schedule. One way for `npm start`,
 * `npm run worker` and the tests. `stop()` drains: no new tasks, in-flight activities get
 * WORKER_SHUTDOWN_GRACE_SEC.
 */
import { ResourceBasedController, Runtime, type NativeConnection, type Worker, type WorkerInterceptors } from '@temporalio/worker';
import { createWorkerMetrics } from '../activities/worker-metrics';
import type { ModelAdapter } from '../activities/model/model-adapter';
import type { ToolDefinition } from '../activities/tools/tool';
import type { Config } from '../shared/config';
import type { Foundation } from '../shared/foundation';
import type { Logger } from '../shared/logger';
import type { ApprovalNotifier } from '../shared/slack/notifier';
import { McpPool } from '../shared/mcp/mcp-pool';
import { packageVersion } from '../shared/package-info';
import { connectWorker } from '../shared/temporal/connection';
import { loadMcpTools } from '../activities/tools/mcp-tools';
import { createActivityDeps } from './activity-deps';
import { openBlobStore } from '../shared/workspaces/open-blob-store';
import { workerIdentity, workerQueueName } from './worker-queue';
import { startWorkspaceJanitor } from './workspace-janitor';
import { checkModelEndpoint } from './check-model-endpoint';
import { createActivityWorker, createWorker } from './create-worker';
import { requestShutdown } from './shutdown';
import { ensureSweeperSchedule } from './sweeper-schedule';
import { startWebhookDispatcher } from './webhook-dispatcher';

export interface RunningWorker {
  worker: Worker;
  /** Settles when the worker has stopped (drained, or failed). */
  done: Promise<void>;
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
  /** Tools a deployment adds next to the built-in ones. */
  extraTools?: ToolDefinition<any>[];
  modelFor?: (model: string) => ModelAdapter;
  notifier?: ApprovalNotifier;
  interceptors?: WorkerInterceptors;
  /** Create or update the sweeper schedule of this task queue (every real worker does). */
  sweeperSchedule?: boolean;
}): Promise<RunningWorker> {
  const { config, foundation, logger } = opts;
  if (opts.sweeperSchedule !== false) await ensureSweeperSchedule(foundation.client, config);
  // MCP servers' tools join the built-in ones; their connections are this worker's, pooled.
  const mcp = new McpPool(config.tools.mcpServers, logger, { name: 'longhaul', version: packageVersion() });
  const mcpTools = await loadMcpTools(mcp, logger, { timeoutMs: config.activities.toolCallTimeoutSec * 1000 });
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
    extraTools: [...(opts.extraTools ?? []), ...mcpTools],
    modelFor: opts.modelFor,
    notifier: opts.notifier,
    metrics: createWorkerMetrics(Runtime.instance().metricMeter, knownModels(config)),
  });
  // WORKER_TUNER=resource: one memory and CPU target for the whole process, both of its workers.
  const resourceController =
    config.worker.tuner === 'resource' ? ResourceBasedController.create({ targetMemoryUsage: config.worker.targetMemoryUsage, targetCpuUsage: config.worker.targetCpuUsage }) : undefined;
  const worker = await createWorker({ connection, config, deps, interceptors: opts.interceptors, resourceController });
  // This worker's own queue: tool calls of runs whose workspaces it holds come here (no workflows).
  const ownQueue = await createActivityWorker({ connection, config, deps, taskQueue: workerQueue, interceptors: opts.interceptors, resourceController });
  const janitor = await startWorkspaceJanitor({ activityDeps: deps, blobs: openBlobStore(config, foundation.store), config, logger });
  // Not awaited: a slow or dead endpoint is reported, never a reason to delay polling.
  if (!opts.modelFor) void checkModelEndpoint(config, logger);
  const dispatcher = startWebhookDispatcher({ store: foundation.store, client: foundation.client, config, logger });
  const ownQueueDone = ownQueue.run();
  const done = worker.run().finally(async () => {
    if (ownQueue.getState() === 'RUNNING') ownQueue.shutdown();
    await ownQueueDone.catch((err: unknown) => logger.warn({ err }, 'the worker queue stopped with an error'));
    await janitor.stop();
    await dispatcher.stop();
    await connection.close();
    await mcp.close();
  });
  return {
    worker,
    done,
    stop: async () => {
      requestShutdown(worker);
      await done;
    },
  };
}
