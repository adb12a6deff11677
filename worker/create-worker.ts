/** A Temporal worker polling Longhaul's task queue with the run workflow and its activities. */
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../shared/config';

export async function createWorker(opts: {
  connection: NativeConnection;
  config: Config;
  deps: ActivityDeps;
  /** Overrides the task queue from config (tests give each suite its own). */
  taskQueue?: string;
}): Promise<Worker> {
  const { config } = opts;
  const bundlePath = config.temporal.workflowBundlePath;
  return Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
    // A prebuilt bundle skips bundling at start-up; otherwise the workflow sources are bundled here.
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(opts.deps),
    // On SIGTERM: stop polling, give in-flight activities this long to finish, then exit.
    shutdownGraceTime: `${config.activities.workerShutdownGraceSec}s`,
    maxConcurrentActivityTaskExecutions: 200,
  });
}
