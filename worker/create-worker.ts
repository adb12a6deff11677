/** A Temporal worker polling Longhaul's task queue with the run workflow and its activities. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { type NativeConnection, Worker, type WorkerInterceptors } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../shared/config';
import { packageVersion } from '../shared/package-info';

/**
 * A short build id. The SDK's default (package name + a 64-hex bundle checksum) is copied into
 * every task-started event of every run, so it alone adds ~0.4 KB of history per step.
 */
export function shortBuildId(bundlePath?: string): string {
  const version = packageVersion();
  if (!bundlePath) return `longhaul@${version}`;
  const digest = crypto.createHash('sha256').update(fs.readFileSync(bundlePath)).digest('hex').slice(0, 10);
  return `longhaul@${version}+${digest}`;
}

export async function createWorker(opts: {
  connection: NativeConnection;
  config: Config;
  deps: ActivityDeps;
  /** Overrides the task queue from config (tests give each suite its own). */
  taskQueue?: string;
  interceptors?: WorkerInterceptors;
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
    buildId: shortBuildId(bundlePath),
    // On SIGTERM: stop polling, give in-flight activities this long to finish, then exit.
    shutdownGraceTime: `${config.activities.workerShutdownGraceSec}s`,
    maxConcurrentActivityTaskExecutions: 200,
    // When a worker dies, the next workflow task waits this long on its sticky queue before any
    // worker may take it. Histories here are small, so losing stickiness early is cheap and a dead
    // worker stalls its runs for seconds, not the SDK's default ten.
    stickyQueueScheduleToStartTimeout: `${config.activities.workerStickyTimeoutSec}s`,
    interceptors: opts.interceptors,
  });
}

/** A worker that runs only activities, on a queue of its own (this process's workspace affinity queue). */
export async function createActivityWorker(opts: { connection: NativeConnection; config: Config; deps: ActivityDeps; taskQueue: string; interceptors?: WorkerInterceptors }): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.taskQueue,
    activities: createActivities(opts.deps),
    buildId: shortBuildId(opts.config.temporal.workflowBundlePath),
    shutdownGraceTime: `${opts.config.activities.workerShutdownGraceSec}s`,
    maxConcurrentActivityTaskExecutions: 200,
    // Only activity interceptors: this worker runs no workflows.
    interceptors: opts.interceptors?.activity ? { activity: opts.interceptors.activity } : undefined,
  });
}
