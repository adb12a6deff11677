/**
 * `npm run worker`: a worker process for deployments. Runs until SIGTERM/SIGINT, then drains:
 * stops polling, lets in-flight activities finish within WORKER_SHUTDOWN_GRACE_SEC, exits 0.
 */
import { createBus } from '../shared/bus/create-bus';
import { loadConfig, redactedConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createStore } from '../shared/store';
import { connectWorker } from '../shared/temporal/connection';
import { createActivityDeps } from './activity-deps';
import { createWorker } from './create-worker';
import { requestShutdown } from './shutdown';
import { installTemporalLogging } from './temporal-logging';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'longhaul-worker' });
  installTemporalLogging(logger);
  logger.info({ config: redactedConfig(config) }, 'starting worker');

  const store = await createStore(config);
  const bus = await createBus({ config, store, role: 'publisher', logger });
  const connection = await connectWorker(config);
  const worker = await createWorker({ connection, config, deps: createActivityDeps({ config, store, bus, logger }) });

  let signalled = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (signalled) return;
      signalled = true;
      logger.info({ signal: sig }, 'draining: no new tasks, waiting for in-flight activities');
      requestShutdown(worker);
    });
  }
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  await worker.run();
  await connection.close();
  await bus.close();
  await store.close();
  logger.info('worker stopped');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
