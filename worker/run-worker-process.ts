/**
 * A worker process: connect, make sure the sweeper schedule exists, poll until SIGTERM/SIGINT, then
 * drain — stop polling, let in-flight activities finish within WORKER_SHUTDOWN_GRACE_SEC — and
 * return. `npm run worker` runs it with the built-in tools; a deployment with its own tools calls it
 * with `extraTools`.
 */
import type { ToolDefinition } from '../activities/tools/tool';
import { createBus } from '../shared/bus/create-bus';
import { loadConfig, redactedConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createStore } from '../shared/store';
import { closeClient, connectClient, connectWorker } from '../shared/temporal/connection';
import { ensureSearchAttributes } from '../shared/temporal/search-attributes';
import { createActivityDeps } from './activity-deps';
import { createWorker } from './create-worker';
import { installRuntime } from './runtime';
import { requestShutdown } from './shutdown';
import { ensureSweeperSchedule } from './sweeper-schedule';

export async function runWorkerProcess(opts: { extraTools?: ToolDefinition<any>[] } = {}): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'longhaul-worker' });
  installRuntime(logger, config);
  logger.info({ config: redactedConfig(config) }, 'starting worker');

  const store = await createStore(config);
  const bus = await createBus({ config, store, role: 'worker', logger });
  const client = await connectClient(config);
  await ensureSearchAttributes(client, config.temporal.namespace).catch((err) =>
    logger.warn({ err }, 'could not register search attributes; register them with `temporal operator search-attribute create`'),
  );
  await ensureSweeperSchedule(client, config);
  const connection = await connectWorker(config);
  const worker = await createWorker({ connection, config, deps: createActivityDeps({ config, store, bus, logger, extraTools: opts.extraTools }) });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      logger.info({ signal: sig, graceSec: config.activities.workerShutdownGraceSec }, 'draining: no new tasks, waiting for in-flight activities');
      requestShutdown(worker);
    });
  }
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  await worker.run();
  await connection.close();
  await closeClient(client);
  await bus.close();
  await store.close();
  logger.info('worker stopped');
}
